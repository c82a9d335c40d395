/**
 * The interrupted trials (interruptedTrials.ts) on the lxcs path: the LXC created by the real proxmoxve provider
 * through the Proxmox API double on real LXC (LxcTarget), Docker installed in it by the program.
 */
import { interruptedTrials } from "./interruptedTrials";

interruptedTrials("lxcs");
