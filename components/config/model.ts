/**
 * The typed, fully defaulted model everything downstream uses: the one module the components and gateway/ import
 * from config/. Parsing lives in stack.ts; each concern's schema and rules in its own file.
 */
export type { AgentConfig, AgentDocument, PublishedPort, WorkspaceMount } from "./agent";
export type { AgentSecretValues } from "./agentSecrets";
export { platformSecret } from "./agentSecrets";
export type { DockerInstallConfig } from "./docker";
export type { DockerHostConfig } from "./dockerHost";
export type { LxcConfig, LxcMountConfig } from "./lxc";
export type { ProxmoxConfig, SshClientConfig } from "./proxmox";
export type { StackConfig } from "./stack";
export { PLATFORMS } from "./platforms";
export type { MessagingPlatform } from "./platforms";
