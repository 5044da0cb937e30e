/**
 * Synthesizes a stage the way `cdk synth` does (infra/app.ts buildApp, cdk.json context) but
 * without bundling, so each synth takes seconds. Results are cached per variant: the template
 * is immutable, and the suites only read it.
 */
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import cdkJson from '../../cdk.json' with { type: 'json' };
import { type BuildOptions, buildApp } from '../../infra/app';
import type { MailmeterStack } from '../../infra/stacks/mailmeter-stack';

export const CDK_STAGES = cdkJson.context.stages as Record<string, Record<string, unknown>>;

export interface Synthesized {
  app: App;
  stack: MailmeterStack;
  template: Template;
}

const cache = new Map<string, Synthesized>();

/** The context a test passes: a stage name and (optionally) a patched copy of cdk.json's stages. */
export function synthStage(stage: string, stages: Record<string, unknown> = CDK_STAGES, opts: BuildOptions = {}): Synthesized {
  const key = JSON.stringify([stage, stages, opts]);
  const hit = cache.get(key);
  if (hit) return hit;
  const app = new App({
    // Skip esbuild for every stack: assertions read the template, not the code.
    context: { stage, stages, 'aws:cdk:bundling-stacks': [] },
    // test/infra/deployability.test.ts runs CloudFormation's built-in checks once; here they
    // would only repeat the same minutes of work per variant.
    builtinCloudFormationValidation: false,
  });
  // Env-agnostic unless asked: what `cdk synth` produces without credentials.
  const stack = buildApp(app, { env: {}, ...opts });
  const result = { app, stack, template: Template.fromStack(stack) };
  cache.set(key, result);
  return result;
}

/** cdk.json's stages with one stage's settings patched (deep merge of plain objects). */
export function withStage(name: string, patch: Record<string, unknown>, base: Record<string, Record<string, unknown>> = CDK_STAGES) {
  const merge = (a: unknown, b: unknown): unknown => {
    if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
      const out: Record<string, unknown> = { ...(a as Record<string, unknown>) };
      for (const [k, v] of Object.entries(b)) out[k] = merge(out[k], v);
      return out;
    }
    return b;
  };
  return { ...base, [name]: merge(base[name] ?? {}, patch) as Record<string, unknown> };
}

type CfnResources = Record<string, { Type: string; Properties?: Record<string, unknown>; DeletionPolicy?: string; DependsOn?: string[] }>;

export function resources(template: Template): CfnResources {
  return template.toJSON().Resources as CfnResources;
}

/** Logical id of the CfnFunction behind one of the stack's functions. */
export function functionLogicalId(s: Synthesized, name: keyof MailmeterStack['functions']): string {
  const fn = s.stack.functions[name];
  return s.stack.getLogicalId(fn.node.defaultChild as never);
}
