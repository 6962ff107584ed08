/**
 * Preloaded into a server process by bench/http-profile.ts (`--import ./bench/profile-window.mjs`; plain JavaScript, since it loads before tsx):
 * a CPU profile of just the window the bench chooses, without start-up, compilation or
 * seeding. The first SIGUSR2 starts V8's sampling profiler, the second stops it and writes
 * the profile to $PROFILE_WINDOW_FILE (then `<file>.done`, so the bench knows it is whole).
 */
import { writeFileSync } from "node:fs";
import { Session } from "node:inspector";
import process from "node:process";

const file = process.env.PROFILE_WINDOW_FILE;
if (file !== undefined) {
  const session = new Session();
  session.connect();
  const post = (method, params) =>
    new Promise((resolve, reject) => session.post(method, params, (error, result) => (error ? reject(error) : resolve(result))));
  let running = false;
  process.on("SIGUSR2", () => {
    if (!running) {
      running = true;
      void post("Profiler.enable")
        .then(() => post("Profiler.setSamplingInterval", { interval: 200 }))
        .then(() => post("Profiler.start"));
      return;
    }
    running = false;
    void post("Profiler.stop").then((result) => {
      writeFileSync(file, JSON.stringify(result.profile));
      writeFileSync(`${file}.done`, "");
    });
  });
}
