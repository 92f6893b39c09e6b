// The function bundles' stand-in for @aws-sdk/credential-provider-node (cdk/functionBundling.ts aliases it):
// Lambda puts the execution role's credentials in the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
// AWS_SESSION_TOKEN), so the default chain's SSO, ini, process, web-identity and IMDS providers, and the STS/SSO
// clients they carry, stay out of the bundle. Source runs (hosts, tests, the CLI) keep the SDK's full chain.
import { fromEnv } from "@aws-sdk/credential-provider-env";

type Credentials = Awaited<ReturnType<ReturnType<typeof fromEnv>>>;

export const defaultProvider =
  (init: Parameters<typeof fromEnv>[0] = {}): (() => Promise<Credentials>) =>
  async () => {
    try {
      return await fromEnv(init)();
    } catch (e) {
      throw new Error(
        "AWS credentials: the function bundle reads them from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN), as Lambda sets them; they are not set",
        { cause: e },
      );
    }
  };

// The same predicates as the SDK's own chain.
export const credentialsWillNeedRefresh = (c?: Credentials): boolean => c?.expiration !== undefined;
export const credentialsTreatedAsExpired = (c?: Credentials): boolean =>
  c?.expiration !== undefined && c.expiration.getTime() - Date.now() < 300_000;
