// Placeholder until the composition lands: see README.md.
import type { Logger } from 'pino';
import type { AgentConfig } from './config/agent-config.ts';

export async function startAgent(config: AgentConfig, opts: { logger: Logger }): Promise<{ stop(): Promise<void> }> {
  opts.logger.info({ node: config.nodeName }, 'agent starting');
  return { stop: async () => {} };
}
