import { RetryMode, type RetryOptions } from '@azure/service-bus';

/**
 * How a Service Bus client retries an operation the broker answered with a retryable error
 * (ServiceBusy, ServiceTimeout; not QuotaExceeded): fixed delays, as @azure/service-bus does by
 * default. `timeoutInMs` bounds each try (opening the link, waiting for credit, the send).
 */
export interface SendRetryPolicy {
  maxRetries: number;
  retryDelayInMs: number;
  timeoutInMs: number;
}

/** @azure/core-amqp's defaults, what a client built without retryOptions gets: 3 retries 30 s apart, 60 s per try. */
export const sdkDefaultSendRetry: SendRetryPolicy = { maxRetries: 3, retryDelayInMs: 30_000, timeoutInMs: 60_000 };

/**
 * The graphNotifications webhook's client. Graph waits 3 s for the answer to a delivery (over
 * 2.9 s is slow; 10 % slow throttles the endpoint, 15 % drops notifications), so one busy broker
 * must not keep it waiting the SDK's 30 s: two tries of at most 1.2 s, 0.2 s apart, then the
 * webhook answers 5xx and Graph sends the POST again later (its messages keep their ids, so a
 * batch that did go through is dropped as a duplicate).
 */
export const webhookSendRetry: SendRetryPolicy = { maxRetries: 1, retryDelayInMs: 200, timeoutInMs: 1_200 };

/** The longest a send can take under a policy before it fails: every try timing out, every delay waited. */
export function worstCaseSendMs(policy: SendRetryPolicy): number {
  return (policy.maxRetries + 1) * policy.timeoutInMs + policy.maxRetries * policy.retryDelayInMs;
}

/** The policy as @azure/service-bus's client options take it. */
export function serviceBusRetryOptions(policy: SendRetryPolicy): RetryOptions {
  return { ...policy, maxRetryDelayInMs: policy.retryDelayInMs, mode: RetryMode.Fixed };
}
