// How retrieved experiences read in a prompt, and how the text is found again in a trajectory (the extractors and
// the semantic advantage read a task's own words, never the experience that was put in front of them).
import type { ChatMessage } from "../../core/messages.js";
import type { Experience } from "./schema.js";

export const EXPERIENCE_HEADER = "Experience from earlier attempts at similar tasks (use what applies):";

export function renderExperiences(experiences: readonly Pick<Experience, "whenToUse" | "content">[]): string {
  return [EXPERIENCE_HEADER, ...experiences.map((e, i) => `${i + 1}. When ${e.whenToUse}: ${e.content}`)].join("\n");
}

export function isExperienceMessage(message: ChatMessage): boolean {
  return message.content.startsWith(EXPERIENCE_HEADER);
}

/** The task's first user message (the retrieval query), with any injected experience passed over. */
export function taskText(messages: readonly ChatMessage[]): string {
  return messages.find((m) => m.role === "user" && !isExperienceMessage(m))?.content ?? "";
}
