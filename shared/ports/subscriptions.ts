import type { SubscriptionView } from '../domain/graph-subscription.js';

export interface NewSubscription {
  resource: string;
  changeType: string;
  notificationUrl: string;
  lifecycleNotificationUrl: string;
  clientState: string;
  expirationDateTime: string;
}

/** Microsoft Graph change-notification subscriptions, as Dialtone manages them. */
export interface Subscriptions {
  list(): Promise<SubscriptionView[]>;
  create(subscription: NewSubscription): Promise<SubscriptionView>;
  renew(id: string, expirationDateTime: string): Promise<SubscriptionView>;
  /** DELETE /subscriptions/{id} (`dialtone tenant unlink`). */
  remove(id: string): Promise<void>;
}
