/**
 * pubsub.mqtt3 plumbing: the component `url` and TLS fields mapped onto mqtt.js options, topic
 * filter matching, and the deferred acknowledgements mqtt.js has no public API for with MQTT 3.1.1.
 */
import type { IClientOptions, IPublishPacket, MqttClient } from "mqtt";
import { MetadataError } from "../../kit/metadata-schema.js";

/** Dapr's scheme aliases (paho names) onto the mqtt.js protocols; `secure` ones get the TLS fields. */
const SCHEMES: Readonly<Record<string, { protocol: "mqtt" | "mqtts" | "ws" | "wss"; port: number }>> = {
  "tcp:": { protocol: "mqtt", port: 1883 },
  "mqtt:": { protocol: "mqtt", port: 1883 },
  "ssl:": { protocol: "mqtts", port: 8883 },
  "tls:": { protocol: "mqtts", port: 8883 },
  "tcps:": { protocol: "mqtts", port: 8883 },
  "mqtts:": { protocol: "mqtts", port: 8883 },
  "ws:": { protocol: "ws", port: 80 },
  "wss:": { protocol: "wss", port: 443 },
};

export interface TlsFields {
  readonly caCert: string | undefined;
  readonly clientCert: string | undefined;
  readonly clientKey: string | undefined;
}

/** mqtt.js connection options for `url` (credentials taken from it, percent-decoded). */
export function connectionOptions(url: string, tls: TlsFields): { options: IClientOptions; secure: boolean } {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new MetadataError("url", `metadata field "url" is not a URL: "${url}"`);
  }
  const scheme = SCHEMES[u.protocol];
  if (!scheme) throw new MetadataError("url", `metadata field "url" has unsupported scheme "${u.protocol}" (use ${Object.keys(SCHEMES).map((s) => `${s}//`).join(", ")})`);
  if (u.hostname === "") throw new MetadataError("url", `metadata field "url" has no host: "${url}"`);
  if ((tls.clientCert === undefined) !== (tls.clientKey === undefined)) {
    throw new MetadataError(tls.clientCert === undefined ? "clientCert" : "clientKey", "clientCert and clientKey must be given together");
  }
  const secure = scheme.protocol === "mqtts" || scheme.protocol === "wss";
  const options: IClientOptions = {
    protocol: scheme.protocol,
    host: u.hostname.replace(/^\[(.*)\]$/, "$1"),
    port: u.port === "" ? scheme.port : Number(u.port),
  };
  if (scheme.protocol === "ws" || scheme.protocol === "wss") options.path = `${u.pathname}${u.search}` || "/mqtt";
  if (u.username !== "") options.username = decodeURIComponent(u.username);
  if (u.password !== "") options.password = decodeURIComponent(u.password);
  if (secure) {
    if (tls.caCert !== undefined) options.ca = tls.caCert;
    if (tls.clientCert !== undefined) options.cert = tls.clientCert;
    if (tls.clientKey !== undefined) options.key = tls.clientKey;
  }
  return { options, secure };
}

/** A subscription topic filter compiled once; `$share/<group>/` is matched without its prefix. */
export interface TopicFilter {
  readonly filter: string;
  readonly wildcard: boolean;
  matches(topic: string): boolean;
}

export function compileFilter(filter: string): TopicFilter {
  const shared = /^\$share\/[^/]+\/(.+)$/.exec(filter);
  const effective = shared?.[1] ?? filter;
  const levels = effective.split("/");
  const wildcard = levels.some((l) => l === "+" || l === "#");
  if (!wildcard) return { filter, wildcard, matches: (topic) => topic === effective };
  // MQTT 3.1.1 §4.7: a filter starting with a wildcard does not match topics starting with `$`.
  const guardsDollar = levels[0] === "+" || levels[0] === "#";
  return {
    filter,
    wildcard,
    matches(topic) {
      if (guardsDollar && topic.startsWith("$")) return false;
      const parts = topic.split("/");
      for (let i = 0; i < levels.length; i++) {
        const level = levels[i];
        if (level === "#") return true;
        const part = parts[i];
        if (part === undefined) return false;
        if (level !== "+" && level !== part) return false;
      }
      return parts.length === levels.length;
    },
  };
}

/** The members of mqtt.js's client its own packet handlers use to acknowledge (not in its typings). */
interface AckInternals {
  _sendPacket(packet: { cmd: "puback" | "pubcomp"; messageId: number }, cb?: (err?: Error) => void): void;
  _releaseIncomingQoS2Publish?(messageId: number): void;
  incomingStore: { del(packet: { messageId?: number }, cb: (err?: Error) => void): unknown };
}

/**
 * Handed to mqtt.js's `handleMessage` callback: the packet handlers skip the PUBACK (QoS 1) or
 * PUBCOMP (QoS 2) when the callback gets an error, and go on reading packets. The component sends
 * the acknowledgement itself with `sendAck` once the message handler resolved.
 */
export const ACK_DEFERRED = new Error("pubsub.mqtt3: acknowledgement deferred until the handler resolves");

/** PUBACK for QoS 1, PUBCOMP (and the client's QoS 2 bookkeeping) for QoS 2; resolves once written. */
export function sendAck(client: MqttClient, packet: IPublishPacket): Promise<void> {
  const messageId = packet.messageId;
  if (packet.qos === 0 || messageId === undefined) return Promise.resolve();
  const internals = client as unknown as AckInternals;
  if (packet.qos === 2) {
    internals.incomingStore.del(packet, () => undefined);
    internals._releaseIncomingQoS2Publish?.(messageId);
  }
  return new Promise((resolve) => internals._sendPacket({ cmd: packet.qos === 1 ? "puback" : "pubcomp", messageId }, () => resolve()));
}
