import { conflict, notFound } from "../../platform/errors.ts";

export const userNotFound = (id: string) => notFound("user", id);

export const emailTaken = () => conflict("email_taken", "Another user already has this e-mail address.");
