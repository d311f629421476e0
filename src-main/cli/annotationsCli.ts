import { main } from './annotationsCommands';

/** `npm run annotations -- …`: see annotationsCommands.ts for the commands. */
process.exitCode = main(process.argv.slice(2), {
  stdout: (line) => console.log(line),
  stderr: (line) => console.error(line),
  // npm runs the script in the package folder; relative paths are meant from where the user typed the command.
  cwd: process.env.INIT_CWD ?? process.cwd(),
});
