import { createHmac, timingSafeEqual } from "node:crypto";

/** Slack's recommended window: a request signed longer ago than this is refused (replay protection). */
export const SLACK_SIGNATURE_WINDOW_SECONDS = 300;

export interface VerifySlackSignatureProps {
  readonly signingSecret: string;
  /** `X-Slack-Request-Timestamp` (Unix seconds). */
  readonly timestamp: string | undefined;
  /** `X-Slack-Signature` (`v0=<hex>`). */
  readonly signature: string | undefined;
  /** The request body exactly as received. */
  readonly rawBody: string;
  /** Unix seconds now. */
  readonly nowSeconds: number;
  readonly windowSeconds?: number;
}

/** `v0=` + HMAC-SHA256 of `v0:<timestamp>:<body>` under the signing secret, as Slack signs requests. */
export function slackSignature(signingSecret: string, timestamp: string, rawBody: string): string {
  return `v0=${createHmac("sha256", signingSecret).update(`v0:${timestamp}:${rawBody}`).digest("hex")}`;
}

/**
 * Whether a request is Slack's: a timestamp within the window (either side) and the signature of
 * exactly this body, compared in constant time.
 */
export function verifySlackSignature(props: VerifySlackSignatureProps): boolean {
  const { timestamp, signature } = props;
  if (!timestamp || !/^\d{1,12}$/.test(timestamp) || !signature) return false;
  const window = props.windowSeconds ?? SLACK_SIGNATURE_WINDOW_SECONDS;
  if (Math.abs(props.nowSeconds - Number(timestamp)) > window) return false;
  const expected = Buffer.from(slackSignature(props.signingSecret, timestamp, props.rawBody));
  const given = Buffer.from(signature);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
