/**
 * The messaging platforms hermes-lxc configures, in the order the README lists them. Adding one: write its module
 * next to these (see platform.ts and telegram.ts) and add it here; tests/unit/platforms.test.ts checks that what
 * each renders is what hermes reads.
 */
import { discord } from "./discord";
import { whatsappCloud } from "./whatsappCloud";
import { dingtalk } from "./dingtalk";
import { feishu } from "./feishu";
import { wecom } from "./wecom";
import { wecomCallback } from "./wecomCallback";
import { weixin } from "./weixin";
import { bluebubbles } from "./bluebubbles";
import { qq } from "./qq";
import { googleChat } from "./googleChat";
import { line } from "./line";
import { ntfy } from "./ntfy";
import { irc } from "./irc";
import { simplex } from "./simplex";
import { photon } from "./photon";
import { buzz } from "./buzz";
import { teams } from "./teams";
import { email } from "./email";
import { homeAssistant } from "./homeAssistant";
import { matrix } from "./matrix";
import { mattermost } from "./mattermost";
import type { MessagingPlatform } from "./platform";
import { signal } from "./signal";
import { slack } from "./slack";
import { sms } from "./sms";
import { telegram } from "./telegram";
import { webhook } from "./webhook";
import { whatsapp } from "./whatsapp";

export const PLATFORMS: readonly MessagingPlatform[] = [
  telegram,
  discord,
  slack,
  matrix,
  mattermost,
  signal,
  whatsapp,
  whatsappCloud,
  email,
  sms,
  bluebubbles,
  dingtalk,
  feishu,
  wecom,
  wecomCallback,
  weixin,
  qq,
  googleChat,
  teams,
  line,
  ntfy,
  irc,
  simplex,
  photon,
  buzz,
  homeAssistant,
  webhook,
];

export type { InboundPort, MessagingPlatform, PlatformBlock } from "./platform";
