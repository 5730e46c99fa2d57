import { useState } from 'preact/hooks';
import { ApiError, cancelAgent, runAgent, updateAgent, type Agent } from './api';
import { toast } from './components/feedback';

/** Run now, cancel and enable/disable, with feedback; `refresh` reloads the page's data after each. */
export function useAgentActions(refresh: () => Promise<void>) {
  const [busy, setBusy] = useState<Record<string, boolean>>({});

  const act = async (key: string, action: () => Promise<string | null>) => {
    setBusy((b) => ({ ...b, [key]: true }));
    try {
      const message = await action();
      if (message) toast('success', message);
    } catch (error) {
      toast('error', error instanceof ApiError ? error.message : String(error));
    } finally {
      setBusy((b) => ({ ...b, [key]: false }));
      await refresh();
    }
  };

  return {
    busy: (agentId: string, what: 'run' | 'cancel' | 'enabled') => busy[`${what}:${agentId}`] === true,
    run: (agent: Agent) =>
      act(`run:${agent.id}`, async () => {
        await runAgent(agent.id);
        return `Started a run of ${agent.name}`;
      }),
    cancel: (agent: Agent) =>
      act(`cancel:${agent.id}`, async () => {
        try {
          const result = await cancelAgent(agent.id);
          return result.message;
        } catch (error) {
          if (error instanceof ApiError && error.status === 404) return `${agent.name} has nothing running`;
          throw error;
        }
      }),
    setEnabled: (agent: Agent, enabled: boolean) =>
      act(`enabled:${agent.id}`, async () => {
        await updateAgent(agent.id, { enabled });
        return `${agent.name} ${enabled ? 'enabled' : 'disabled'}`;
      }),
  };
}

/** What the agent buttons of a page can do. */
export type AgentActions = ReturnType<typeof useAgentActions>;
