import net from "node:net";

/**
 * Asks the OS for a currently unused TCP port on 127.0.0.1.
 *
 * The port is released before it is returned, so another process can grab it
 * in between; callers that hand it to an external server should retry on
 * "address in use". Prefer listening on port 0 directly where the server allows it.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once("error", reject);
    server.listen({ host: "127.0.0.1", port: 0, exclusive: true }, () => {
      const address = server.address();
      if (address === null || typeof address === "string") {
        server.close();
        reject(new Error(`unexpected listen address: ${String(address)}`));
        return;
      }
      const { port } = address;
      server.close((err) => (err ? reject(err) : resolve(port)));
    });
  });
}
