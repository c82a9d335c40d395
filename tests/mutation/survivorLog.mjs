/**
 * A Stryker reporter that writes each surviving or uncovered mutant as soon as it is known, one line each, to
 * survivors.txt next to the run's JSON report: on two shared cores a run takes an hour, and the clear-text and JSON
 * reports only come at its end. `file:line:column status mutator -> replacement`.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { PluginKind, commonTokens, declareClassPlugin } from "@stryker-mutator/api/plugin";

class SurvivorLog {
  static inject = [commonTokens.options];

  constructor(options) {
    this.file = path.join(path.dirname(options.jsonReporter.fileName), "survivors.txt");
  }

  onDryRunCompleted() {
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    fs.writeFileSync(this.file, "");
  }

  onMutantTested(result) {
    if (result.status !== "Survived" && result.status !== "NoCoverage") return;
    const { line, column } = result.location.start;
    const replacement = (result.replacement ?? "").replace(/\s+/g, " ");
    fs.appendFileSync(
      this.file,
      `${result.fileName}:${line}:${column + 1} ${result.status} ${result.mutatorName} -> ${replacement}\n`,
    );
  }
}

export const strykerPlugins = [declareClassPlugin(PluginKind.Reporter, "survivor-log", SurvivorLog)];
