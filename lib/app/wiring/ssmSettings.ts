// Settings defaults stored as JSON in an SSM parameter, for hosts (createEngineDependencies, when TSE_SETTINGS_PARAMETER
// is set). The deployed functions take theirs from TSE_SETTINGS, so their bundles carry no SSM client.
import { GetParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { instrumentAwsClient } from "../../adapters/aws/requestRecorder";
import { InvalidFieldError } from "../../domain/errors";
import { type EngineSettingsInput, parseEngineSettings } from "../settings";

/** Validated; a bad value names the parameter. */
export async function loadSettingsParameter(name: string, client = new SSMClient({})): Promise<EngineSettingsInput> {
  const res = await instrumentAwsClient(client).send(new GetParameterCommand({ Name: name }));
  const text = res.Parameter?.Value ?? "";
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new InvalidFieldError(name, text, "must be a JSON object of engine settings");
  }
  parseEngineSettings(json); // validate now, with the parameter's own error
  return json as EngineSettingsInput;
}
