/** The Store's part for the cost forecast (store.ts composes it into the Store; SQL in sql/forecast.ts). */
export interface ForecastStore {
  /**
   * The costs of each agent's latest `limit` runs that started and ended (domain/forecast.ts's
   * FORECAST_STATUSES), newest first; an agent without such runs maps to an empty list.
   */
  recentRunCosts(agentIds: readonly string[], limit: number): Promise<Map<string, number[]>>;
}
