export {
  DOCKER_IMAGE,
  type EnsureLocalAwsOptions,
  ensureLocalAws,
  fetchHealth,
  type LocalAws,
  type LocalAwsMode,
  REQUIRED_SERVICES,
} from "./ensureLocalAws";
export * from "./FunctionHost";
export { DYNAMODB_LOCAL, LOCALSTACK_VERSION, LocalAwsPrerequisiteError } from "./hostMode";
