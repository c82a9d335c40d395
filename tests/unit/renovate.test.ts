/**
 * renovate.json's custom managers must keep matching the source they update: a refactor that renames or reshapes
 * DEFAULT_HERMES_IMAGE or the Docker package pins (or moves them out of components/config/) fails here instead of
 * silently ending the bump PRs. Each regex is applied the way Renovate applies it (every file its
 * managerFilePatterns selects, the whole text) and must find exactly the values the program deploys.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { DEFAULT_CONTAINERD_VERSION, DEFAULT_DOCKER_CE_VERSION } from "../../components/config/docker";
import { DEFAULT_HERMES_IMAGE } from "../../components/config/hermesImage";
import { PROJECT_DIR } from "../helpers/stackFile";

interface CustomManager {
  customType: string;
  managerFilePatterns: string[];
  matchStrings: string[];
  depNameTemplate?: string;
  datasourceTemplate: string;
}
const renovate = JSON.parse(fs.readFileSync(path.join(PROJECT_DIR, "renovate.json"), "utf8")) as {
  enabledManagers: string[];
  customManagers: CustomManager[];
};

/** Every repository file (git's view: tracked and new, not ignored) a manager's `/regex/` patterns select. */
function filesOf(manager: CustomManager): string[] {
  const patterns = manager.managerFilePatterns.map((p) => {
    const m = /^\/(.*)\/$/.exec(p);
    if (!m) throw new Error(`managerFilePatterns entry is not a /regex/: ${p}`);
    return new RegExp(m[1]);
  });
  const walk = (dir: string): string[] =>
    fs.readdirSync(path.join(PROJECT_DIR, dir), { withFileTypes: true }).flatMap((e) => {
      const rel = dir ? `${dir}/${e.name}` : e.name;
      if (e.isDirectory()) return ["node_modules", ".git", "tests"].includes(e.name) ? [] : walk(rel);
      return [rel];
    });
  return walk("").filter((f) => patterns.some((re) => re.test(f)));
}

function matches(manager: CustomManager): Array<Record<string, string>> {
  return filesOf(manager).flatMap((f) => {
    const text = fs.readFileSync(path.join(PROJECT_DIR, f), "utf8");
    return manager.matchStrings.flatMap((s) =>
      [...text.matchAll(new RegExp(s, "g"))].map((m) => ({ file: f, ...m.groups })),
    );
  });
}

const byDatasource = (ds: string, dep?: string) =>
  renovate.customManagers.filter(
    (m) => m.datasourceTemplate === ds && (dep === undefined || m.depNameTemplate === dep),
  );

describe("renovate.json", () => {
  it("enables the managers it configures: npm, and the custom regex ones", () => {
    expect(renovate.enabledManagers).toEqual(expect.arrayContaining(["npm", "custom.regex"]));
    expect(renovate.customManagers.every((m) => m.customType === "regex")).toBe(true);
  });

  it("finds the default hermes image's repository, tag and digest, exactly once", () => {
    const [manager] = byDatasource("docker");
    const found = matches(manager);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({
      depName: DEFAULT_HERMES_IMAGE.repository,
      currentValue: DEFAULT_HERMES_IMAGE.tag,
      currentDigest: DEFAULT_HERMES_IMAGE.digest,
    });
  });

  it.each([
    ["docker-ce", DEFAULT_DOCKER_CE_VERSION],
    ["containerd.io", DEFAULT_CONTAINERD_VERSION],
  ])("finds the pinned %s version, exactly once", (dep, version) => {
    const managers = byDatasource("deb", dep);
    expect(managers).toHaveLength(1);
    const found = matches(managers[0]);
    expect(found).toHaveLength(1);
    expect(found[0].currentValue).toBe(version);
  });
});
