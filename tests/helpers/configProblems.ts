/** The problems parseStackConfig reports for the homelab stack after an edit ([] when it parses). */
import { ConfigError } from "../../components/config/errors";
import { parseStackConfig } from "../../components/config/stack";
import { homelabWithSecrets, readProjectFile } from "./stackFile";

export function problemsOf(mutate: (raw: any) => void): string[] {
  const raw = homelabWithSecrets();
  mutate(raw);
  try {
    parseStackConfig(raw, { readFile: readProjectFile });
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  return [];
}
