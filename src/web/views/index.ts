// The table of a run's views. Add a view by writing its file (see view.ts) and listing it here; the server, the tabs
// and the JSON API pick it up from this list.
import type { DashboardView } from "./view.js";
import { overviewView } from "./overview.js";
import { trajectoriesView } from "./trajectories.js";
import { trajectoryView } from "./trajectory.js";
import { evaluationsView } from "./evaluations.js";
import { tasksView } from "./tasks.js";
import { experiencesView } from "./experiences.js";

export const views: DashboardView[] = [overviewView, trajectoriesView, evaluationsView, tasksView, experiencesView, trajectoryView];

export { listRuns, runsPage } from "./runs.js";
export type { DashboardView, ViewContext } from "./view.js";
