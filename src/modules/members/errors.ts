import { notFound } from "../../platform/errors.ts";

/** A membership is named by team and user, so its 404 names no id. */
export const memberNotFound = () => notFound("member");
