import { Type, type Static } from 'typebox';
import { LIMITS } from '../../defaults.js';
import { OrNull } from './common.js';

/** The deployment's spend caps (GET/PUT /api/budget). */

const CapUsd = (window: string) =>
  Type.Number({
    minimum: 0,
    maximum: LIMITS.spendCapUsd,
    description: `Most USD all agents' runs together may spend per UTC ${window} (ended runs, plus what running runs have spent and reserved); null: no cap`,
  });

const WarnAtPercent = Type.Integer({
  minimum: 1,
  maximum: 100,
  description:
    'budget.warning is sent once per window when the money spent first reaches this share of a cap (the deployment caps and every agent cap). Default: 80',
});

export const PutBudgetBody = Type.Object(
  {
    dailyUsd: Type.Union([CapUsd('day'), Type.Null()]),
    monthlyUsd: Type.Union([CapUsd('month'), Type.Null()]),
    warnAtPercent: Type.Optional(WarnAtPercent),
  },
  { additionalProperties: false, description: 'Replaces the settings: both caps are required (null: none); warnAtPercent absent is 80' },
);
export type PutBudgetBody = Static<typeof PutBudgetBody>;

export const BudgetJson = Type.Object({
  dailyUsd: OrNull(CapUsd('day')),
  monthlyUsd: OrNull(CapUsd('month')),
  warnAtPercent: WarnAtPercent,
  spend: Type.Object(
    {
      todayUsd: Type.Number({ description: "Today's spend (UTC) of the whole deployment: ended runs' cost plus what running runs have spent and reserved" }),
      monthUsd: Type.Number({ description: "This month's spend (UTC), the same way" }),
    },
    { description: 'The spend the caps are checked against' },
  ),
});
export type BudgetJson = Static<typeof BudgetJson>;
