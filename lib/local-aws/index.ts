export {
  DOCKER_IMAGE,
  type EnsureLocalAwsOptions,
  ensureLocalAws,
  fetchHealth,
  type LocalAws,
  type LocalAwsMode,
  localAwsStatus,
  type ManagedLocalAwsStatus,
  REQUIRED_SERVICES,
  stopManagedLocalAws,
} from "./ensureLocalAws";
export * from "./FunctionHost";
export { DYNAMODB_LOCAL, LOCALSTACK_VERSION, LocalAwsPrerequisiteError } from "./hostMode";
