'use strict';
// Baseline for tests/SelectReactor.Benchmarks/compare.sh: a Node.js `net` echo server, the idiomatic way.
// socket.pipe(socket) echoes with backpressure (it pauses reading while the write side is full) and ends our
// stream when the peer ends its own. Same command line as samples/EchoServer: --host, --port (0 picks a free port);
// prints exactly one line "listening on HOST:PORT"; exits 0 on SIGTERM or Ctrl+C.
const net = require('node:net');

const usage = 'usage: node echo.js [--host 127.0.0.1] [--port 7007]';
let host = '127.0.0.1';
let port = 7007;
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--help' || args[i] === '-h') {
    process.stdout.write(usage + '\n');
    process.exit(0);
  }
  const value = args[i + 1];
  if (args[i] === '--host' && value !== undefined && net.isIPv4(value)) {
    host = value;
    i++;
  } else if (args[i] === '--port' && /^\d+$/.test(value ?? '') && Number(value) <= 65535) {
    port = Number(value);
    i++;
  } else {
    process.stderr.write(`error: bad option or value: ${args[i]}\n${usage}\n`);
    process.exit(2);
  }
}

const sockets = new Set();
const server = net.createServer({ noDelay: true }, (socket) => {
  sockets.add(socket);
  socket.on('error', () => {}); // a reset peer: the connection is over, 'close' follows
  socket.on('close', () => sockets.delete(socket));
  socket.pipe(socket);
});

server.listen({ host, port, backlog: 4096 }, () => {
  const address = server.address();
  process.stdout.write(`listening on ${address.address}:${address.port}\n`);
});

function stop() {
  server.close();
  for (const socket of sockets) socket.destroy();
  process.exit(0);
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
