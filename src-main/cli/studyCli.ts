import { appVersion } from '../handlers/appVersion';
import { runStudyCommand } from '../services/evaluation/study/studyCommand';

/** `npm run study -- <project folder> <study.json>`: see studyCommand.ts. Ctrl-C stops between runs and keeps the finished ones. */
const controller = new AbortController();
process.once('SIGINT', () => controller.abort());
void runStudyCommand(process.argv.slice(2), {
  stdout: (line) => console.log(line),
  stderr: (line) => console.error(line),
  // npm runs the script in the package folder; relative paths are meant from where the user typed the command.
  cwd: process.env.INIT_CWD ?? process.cwd(),
  appVersion: appVersion(),
  signal: controller.signal,
}).then(
  (status) => {
    process.exitCode = status;
  },
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exitCode = 1;
  },
);
