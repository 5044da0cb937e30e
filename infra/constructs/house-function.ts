/**
 * The one way this stack makes a Lambda function: Node 22 on ARM64, esbuild with minify,
 * source maps and the AWS SDK bundled (infra/bundling.ts), an explicit log group with the
 * stage's retention, the environment every handler reads at cold start, and table access
 * granted only through `bindTable`.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { type BundlingOptions, NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { FunctionName } from '../../shared/contract/routes';
import { SERVICE_NAME } from '../../shared/platform/powertools';
import { ESBUILD_SETTINGS, FUNCTION_LOADERS, RUNTIME_NODE_OPTIONS } from '../bundling';

/** What every function of a stage shares; built once by the stack. */
export interface FunctionDefaults {
  /** Repository root: esbuild's project root and where `functions/` lives. */
  projectRoot: string;
  /** Environment every handler gets (TABLE_NAME, STAGE, LOG_LEVEL, PLANS_JSON, …). */
  environment: Record<string, string>;
  logRetention: RetentionDays;
  logRemovalPolicy: RemovalPolicy;
  tracing: boolean;
}

export interface HouseFunctionProps {
  /** Folder under functions/ holding handler.ts. */
  name: FunctionName;
  defaults: FunctionDefaults;
  /** Physical name; leave unset unless something must know it before the function exists. */
  functionName?: string;
  /** Extra variables for this function only. */
  environment?: Record<string, string>;
  timeout?: Duration;
  memorySize?: number;
  /** Extra esbuild settings (command hooks); merged over the house bundling. */
  bundling?: Pick<BundlingOptions, 'commandHooks'>;
}

export type TableAccess = 'RO' | 'RW';

export class HouseFunction extends NodejsFunction {
  readonly functionFolder: FunctionName;

  constructor(scope: Construct, id: string, props: HouseFunctionProps) {
    const { defaults } = props;
    const entry = join(defaults.projectRoot, 'functions', props.name, 'handler.ts');
    if (!existsSync(entry)) {
      // NodejsFunction checks this too, but without saying which function is missing.
      throw new Error(`functions/${props.name}/handler.ts does not exist: every name in FUNCTIONS needs a handler`);
    }
    const logGroup = new LogGroup(scope, `${id}Logs`, {
      retention: defaults.logRetention,
      removalPolicy: defaults.logRemovalPolicy,
    });
    super(scope, id, {
      entry,
      functionName: props.functionName,
      handler: 'handler',
      projectRoot: defaults.projectRoot,
      depsLockFilePath: join(defaults.projectRoot, 'package-lock.json'),
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout ?? Duration.seconds(10),
      logGroup,
      tracing: defaults.tracing ? Tracing.ACTIVE : Tracing.DISABLED,
      environment: {
        ...defaults.environment,
        POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
        ...(RUNTIME_NODE_OPTIONS ? { NODE_OPTIONS: RUNTIME_NODE_OPTIONS } : {}),
        ...props.environment,
      },
      bundling: {
        minify: ESBUILD_SETTINGS.minify,
        sourceMap: ESBUILD_SETTINGS.sourcemap,
        sourcesContent: ESBUILD_SETTINGS.sourcesContent,
        target: ESBUILD_SETTINGS.target,
        format: OutputFormat.ESM,
        externalModules: [...ESBUILD_SETTINGS.external],
        mainFields: [...ESBUILD_SETTINGS.mainFields],
        banner: ESBUILD_SETTINGS.banner,
        loader: FUNCTION_LOADERS[props.name],
        ...props.bundling,
      },
    });
    this.functionFolder = props.name;
  }

  /** Least-privilege table access: readers get Get/Query/Scan only, writers also Put/Update/Delete. */
  bindTable(table: ITableV2, opts: { access: TableAccess }): this {
    if (opts.access === 'RO') table.grantReadData(this);
    else table.grantReadWriteData(this);
    return this;
  }
}

/** Default timeout for functions that answer HTTP requests (API Gateway gives up at 29 s). */
export const HTTP_TIMEOUT = Duration.seconds(10);
