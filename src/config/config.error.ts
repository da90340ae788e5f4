import type * as z from 'zod';

/** One thing wrong with the configuration, named by the key path (`http.port`) or env var that says it. */
export interface ConfigIssue {
  path: string;
  message: string;
}

/**
 * The configuration cannot be used. Raised before anything starts, so an operator sees every problem
 * at once rather than one per restart.
 */
export class ConfigError extends Error {
  readonly issues: readonly ConfigIssue[];
  readonly source: string | undefined;

  constructor(issues: readonly ConfigIssue[], source: string | undefined) {
    super(formatIssues(issues, source));
    this.name = 'ConfigError';
    this.issues = issues;
    this.source = source;
  }
}

function formatIssues(issues: readonly ConfigIssue[], source: string | undefined): string {
  const where = source === undefined ? 'invalid configuration' : `invalid configuration in ${source}`;
  const lines = issues.map((issue) =>
    issue.path === '' ? `  ${issue.message}` : `  ${issue.path}: ${issue.message}`,
  );
  return [`${where}:`, ...lines].join('\n');
}

/** `['jobservice', 'job_loggers', 2]` → `jobservice.job_loggers[2]`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let text = '';
  for (const segment of path) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else text += text === '' ? String(segment) : `.${String(segment)}`;
  }
  return text;
}

/**
 * zod's issues in the file's terms. Unknown keys come as one issue per mapping; they are split so each
 * offending key is named by its own full path.
 */
export function issuesFromZod(issues: readonly z.core.$ZodIssue[]): ConfigIssue[] {
  return issues.flatMap((issue): ConfigIssue[] => {
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ path: formatPath([...issue.path, key]), message: 'unknown key' }));
    }
    return [{ path: formatPath(issue.path), message: issue.message }];
  });
}
