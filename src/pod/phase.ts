// Which pod phases are final: a pod in one never runs a container again.
export type TerminalPhase = 'Succeeded' | 'Failed';

export function isTerminalPhase(phase: string | undefined): phase is TerminalPhase {
  return phase === 'Succeeded' || phase === 'Failed';
}
