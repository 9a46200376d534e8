import { notFound } from "../../platform/errors.ts";

export const webhookEndpointNotFound = (id: string) => notFound("webhook_endpoint", id);
