import { notFound } from "../../platform/errors.ts";

export const authorizationNotFound = (id: string) => notFound("authorization", id);
