/**
 * CDK entry: `npx cdk synth|deploy -c stage=NAME`. One stack per stage, named
 * `Mailmeter-<stage>`, configured from cdk.json's `stages` context.
 */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App, type Environment, Tags, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { loadStageConfig, StageConfigError } from './config';
import { MailmeterStack } from './stacks/mailmeter-stack';

export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export interface BuildOptions {
  projectRoot?: string;
  /** Target account/region; by default what the CDK CLI resolved from the AWS profile. */
  env?: Environment;
}

/** Builds the stage's stack in `app`; the tests call this with their own App and context. */
export function buildApp(app: App, opts: BuildOptions = {}): MailmeterStack {
  const stage = loadStageConfig(app.node.tryGetContext('stage'), app.node.tryGetContext('stages'));
  const stack = new MailmeterStack(app, `Mailmeter-${stage.name}`, {
    stage,
    projectRoot: opts.projectRoot ?? PROJECT_ROOT,
    description: `Mailmeter (${stage.name}): multi-tenant email sending and usage metering on Amazon SES`,
    env: opts.env ?? { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  });
  Tags.of(stack).add('app', 'mailmeter');
  Tags.of(stack).add('stage', stage.name);
  // Same rules as the tests: an unacknowledged finding interrupts `cdk synth` with a report.
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  return stack;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    buildApp(new App());
  } catch (err) {
    if (!(err instanceof StageConfigError)) throw err;
    // A configuration mistake: the message says what to fix; a stack trace would only bury it.
    console.error(`mailmeter: ${err.message}`);
    process.exit(1);
  }
}
