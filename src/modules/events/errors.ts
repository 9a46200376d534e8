import { notFound } from "../../platform/errors.ts";

export const eventNotFound = (id: string) => notFound("event", id);
