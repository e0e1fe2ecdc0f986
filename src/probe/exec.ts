// exec probes: a command run in the container through the runtime (CRI ExecSync). Exit code 0
// passes; the output is stdout then stderr, at most 10 KiB, as the kubelet keeps it.
import { limitedText, type ProbeOutcome } from './probe-outcome.ts';
import { goQuote } from './go-text.ts';

/** Runs a command in a container (CRI ExecSync); rejects when it cannot run it; a timeout rejects with an Error whose `timedOut` is true. */
export type ExecInContainer = (containerId: string, cmd: string[], timeoutSeconds: number) => Promise<{ exitCode: number; stdout: string; stderr: string }>;

export async function runExecProbe(exec: ExecInContainer, containerId: string, cmd: string[], timeoutSeconds: number): Promise<ProbeOutcome> {
  try {
    const { exitCode, stdout, stderr } = await exec(containerId, cmd, timeoutSeconds);
    const output = limitedText(Buffer.from(stdout + stderr, 'utf8'));
    return { result: exitCode === 0 ? 'success' : 'failure', output };
  } catch (err) {
    // A timed-out command fails the probe with the runtime client's text, naming the command.
    if ((err as { timedOut?: unknown } | null)?.timedOut === true) return { result: 'failure', output: `command ${goQuote(cmd.join(' '))} timed out` };
    return { result: 'failure', output: err instanceof Error ? err.message : String(err) };
  }
}
