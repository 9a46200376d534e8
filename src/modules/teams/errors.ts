import { notFound } from "../../platform/errors.ts";

export const teamNotFound = (id: string) => notFound("team", id);
