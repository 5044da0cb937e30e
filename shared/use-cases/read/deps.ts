/** Cold-start wiring shared by the read handlers: configuration, one DynamoDB client, plans. */
import * as z from 'zod';
import { createDb, type Db } from '../../data/db';
import { baseConfigShape, readConfig } from '../../platform/config';
import { loadPlans, type Plan, type PlanName } from '../../rules/plans';

export const readConfigShape = { ...baseConfigShape, PLANS_JSON: z.string().optional() };

export function readDepsFromEnv(env: NodeJS.ProcessEnv = process.env): { db: Db; plans: Record<PlanName, Plan> } {
  const config = readConfig(readConfigShape, env);
  return { db: createDb(config.TABLE_NAME), plans: loadPlans(config.PLANS_JSON) };
}
