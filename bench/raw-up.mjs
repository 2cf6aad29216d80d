// The bare baseline of bench/up.mts: a fresh node process that sends the engine the network and node requests
// rootlet would send (read from a plan file) and prints the ms from its own start until every node has started.
import { readFileSync } from 'node:fs';
import Docker from 'dockerode';

const plan = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const docker = new Docker({ socketPath: plan.socket });
const dial = (request) =>
  new Promise((resolve, reject) =>
    docker.modem.dial(
      { path: request.path, method: request.method, statusCodes: { 200: true, 201: true, 204: true }, options: request.body },
      (error, result) => (error ? reject(error) : resolve(result)),
    ),
  );
await dial(plan.network);
await Promise.all(
  plan.nodes.map(async (node) => {
    await docker.createVolume(node.volume);
    if (node.create.api === 'libpod') await dial({ method: 'POST', path: '/v4.0.0/libpod/containers/create', body: node.create.body });
    else await docker.createContainer(node.create.body);
    await docker.getContainer(node.name).start();
  }),
);
console.log(performance.now().toFixed(1));
