// A simulator's subscription to another simulator's stream (a client, its open stream, a pending reconnect).
export interface RemoteSubscription {
  client: { close(): void };
  stream?: { cancel(): void };
  retry?: NodeJS.Timeout;
}

/** Stop reconnecting, cancel the stream and close the client. */
export function closeRemote(remote: RemoteSubscription | undefined): undefined {
  if (remote) {
    if (remote.retry) clearTimeout(remote.retry);
    remote.stream?.cancel();
    remote.client.close();
  }
  return undefined;
}
