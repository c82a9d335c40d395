/**
 * A Stryker reporter that writes each mutant's result as soon as it is known, one line each, next to the run's JSON
 * report: survivors.txt (survived and not covered) and results.txt (every tested mutant). On two shared cores a run
 * takes an hour, and the clear-text and JSON reports only come at its end; a run stopped early keeps its results
 * here. `file:line:column status mutator -> replacement`.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { PluginKind, commonTokens, declareClassPlugin } from "@stryker-mutator/api/plugin";

class SurvivorLog {
  static inject = [commonTokens.options];

  constructor(options) {
    const dir = path.dirname(options.jsonReporter.fileName);
    this.survivors = path.join(dir, "survivors.txt");
    this.results = path.join(dir, "results.txt");
  }

  onDryRunCompleted() {
    fs.mkdirSync(path.dirname(this.survivors), { recursive: true });
    for (const file of [this.survivors, this.results]) fs.writeFileSync(file, "");
  }

  onMutantTested(result) {
    const { line, column } = result.location.start;
    const replacement = (result.replacement ?? "").replace(/\s+/g, " ");
    const entry = `${result.fileName}:${line}:${column + 1} ${result.status} ${result.mutatorName} -> ${replacement}\n`;
    fs.appendFileSync(this.results, entry);
    if (result.status === "Survived" || result.status === "NoCoverage")
      fs.appendFileSync(this.survivors, entry);
  }
}

export const strykerPlugins = [declareClassPlugin(PluginKind.Reporter, "survivor-log", SurvivorLog)];
