/**
 * Home Assistant (outbound websocket to HA: no inbound port). Variables: hermes' environment reference,
 * "Messaging": HASS_TOKEN (a long-lived access token; it enables the platform and the HA tools) and HASS_URL
 * (hermes' default http://homeassistant.local:8123 rarely resolves from a container, so the stack names it).
 */
import { doc, httpUrl, strictObject } from "../fields";
import { definePlatform, tooShort } from "./platform";

const schema = strictObject({
  url: httpUrl("http://10.1.10.40:8123").meta(
    doc(
      "http(s) URL",
      "required with homeAssistant",
      "`HASS_URL`: Home Assistant, reachable from the container.",
    ),
  ),
});

export const homeAssistant = definePlatform({
  key: "homeAssistant",
  hermesName: "homeassistant",
  title: "Home Assistant",
  readme: { inbound: "none" },
  schema,
  secrets: [
    {
      key: "homeAssistantToken",
      env: "HASS_TOKEN",
      doc: doc("secret", "required with homeAssistant", "`HASS_TOKEN`: a long-lived access token."),
      requiredBecause: () => "platforms.homeAssistant is enabled",
      problem: tooShort(),
    },
  ],
  variables: { HASS_URL: (b) => b.url },
});
