/**
 * The messaging platforms hermes-lxc configures, in the order the README lists them. Adding one: write its module
 * next to these (see platform.ts and telegram.ts) and add it here; tests/unit/platforms.test.ts checks that what
 * each renders is what hermes reads.
 */
import { bluebubbles } from "./bluebubbles";
import { buzz } from "./buzz";
import { dingtalk } from "./dingtalk";
import { discord } from "./discord";
import { email } from "./email";
import { feishu } from "./feishu";
import { googleChat } from "./googleChat";
import { homeAssistant } from "./homeAssistant";
import { irc } from "./irc";
import { line } from "./line";
import { matrix } from "./matrix";
import { mattermost } from "./mattermost";
import { msgraphWebhook } from "./msgraphWebhook";
import { ntfy } from "./ntfy";
import { photon } from "./photon";
import type { MessagingPlatform } from "./platform";
import { qq } from "./qq";
import { signal } from "./signal";
import { simplex } from "./simplex";
import { slack } from "./slack";
import { sms } from "./sms";
import { teams } from "./teams";
import { telegram } from "./telegram";
import { webhook } from "./webhook";
import { wecom } from "./wecom";
import { wecomCallback } from "./wecomCallback";
import { weixin } from "./weixin";
import { whatsapp } from "./whatsapp";
import { whatsappCloud } from "./whatsappCloud";
import { yuanbao } from "./yuanbao";

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
  yuanbao,
  googleChat,
  teams,
  msgraphWebhook,
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
