/** The interrupted trials (interruptedTrials.ts) on the dockerHosts path: the system tier's CT as a Docker host. */
import { interruptedTrials } from "./interruptedTrials";

interruptedTrials("dockerHosts");
