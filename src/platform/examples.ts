/**
 * Ids and times shared by the examples of the OpenAPI document, so that one story holds across them:
 * Ana's wallet is owned by Ana's user id, her card spends from that wallet, and so on. The ids are
 * UUIDv7, as the service makes them.
 */
export const EXAMPLE_ID = {
  user: "01a20cc8-8e80-717a-b65e-d28be17e1601",
  team: "01a20cca-6b1e-76a9-acc1-914873c0cae1",
  wallet: "01a20ccb-596d-79a0-99bc-f9109f9bf405",
  teamWallet: "01a20ccc-47bc-747d-a974-612b8ee824ec",
  card: "01a20ccd-360b-7be5-81c0-dbabdc567f9f",
  authorization: "01a20cce-245a-7b87-bca7-ffec41f04dd7",
  declinedAuthorization: "01a20ccf-12a9-7799-9f6b-c82acdc7a137",
  cardSpend: "01a20cd0-00f8-72d8-be44-95c7f02ed067",
  topUp: "01a20cd0-ef47-7563-a847-e4c5598459f2",
  transfer: "01a20cd1-dd96-71d7-8ab4-153eb69feaf3",
  transferOut: "01a20cd2-cbe5-720d-ab25-f58e2a4c2c08",
  transferIn: "01a20cd3-ba34-769a-bb3c-0f263e199efe",
  request: "01a20cd4-a883-7e75-a575-e67668975372",
  apiKey: "01a20cd5-96d2-7c1a-9e3b-2f5a8c7d1e40",
  auditEvent: "01a20cd6-8521-7f0b-8c44-6b1d3e9a2f51",
} as const;

export const EXAMPLE_TIME = {
  /** When the example user, team, wallets and card were made. */
  created: "2026-11-24T09:00:00.000Z",
  /** When the example money moved. */
  moved: "2026-11-24T10:15:00.000Z",
  /** When a hold placed at `moved` expires, with the default AUTH_HOLD_TTL of 7 days. */
  holdExpires: "2026-12-01T10:15:00.000Z",
  /** When an example resource was deleted. */
  deleted: "2026-11-25T08:30:00.000Z",
} as const;
