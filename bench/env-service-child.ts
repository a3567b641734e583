// A server for bench/env-service.ts, run in its own process so that load and service do not share an event loop.
//   service: the environment service with the built-in environments plus the counter toy, on a free port
//   echo:    a bare node:http server that answers every request with its own body (the baseline)
// Prints the URL as its first line, answers "cpu" on the IPC channel with its CPU time, exits on SIGTERM.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { registerBuiltinEnvironments, registerEnvironment, startEnvService } from "../src/env/index.js";
import { CounterEnvironment } from "../src/env/test-support/counter-environment.js";

const mode = process.argv[2];
let close: () => Promise<void>;
if (mode === "echo") {
  const server = createServer({ keepAliveTimeout: 65_000 }, (request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const body = Buffer.concat(chunks);
      response.writeHead(200, { "content-type": "application/json", "content-length": body.length });
      response.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  console.log(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  close = () => new Promise((resolve) => (server.closeAllConnections(), server.close(() => resolve())));
} else {
  registerBuiltinEnvironments();
  registerEnvironment("counter", () => new CounterEnvironment());
  const service = await startEnvService({ port: 0 });
  console.log(service.url);
  close = () => service.close();
}
process.on("message", (message) => {
  if (message === "cpu") process.send?.(process.cpuUsage());
});
process.once("SIGTERM", () => void close().then(() => process.exit(0)));
