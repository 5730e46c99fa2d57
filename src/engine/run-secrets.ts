/**
 * Where the executor gets an agent's secrets for a run: name -> value, decrypted for that run
 * only. Throws (naming the secret, never its value) when one cannot be read; the run then ends as
 * an error. Declared here so the engine does not depend on the services that implement it.
 */
export interface RunSecrets {
  forAgent(agentId: string): Promise<Record<string, string>>;
}
