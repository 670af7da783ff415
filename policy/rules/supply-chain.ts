/** Policies: Supply chain: pinned chart and image versions. */
import { type CheckedResource, objectName, resourcePolicy } from "../define";
import { type Findings, type Plain, Unknown, at, formatPath, isObject, str } from "../props";
import { WORKLOAD_TYPES, helmChartNames, helmChartUnknown, isHelmInstall, podContainers } from "../resources";

const EXACT_VERSION = /^v?\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/;

/** Why an image reference is not pinned, or `undefined`. */
export function imagePinProblem(image: string): string | undefined {
  if (image.includes("@sha256:")) return undefined;
  const last = image.slice(image.lastIndexOf("/") + 1);
  const colon = last.lastIndexOf(":");
  if (colon === -1 || colon === last.length - 1) return "has no tag";
  if (last.slice(colon + 1) === "latest") return 'uses the "latest" tag';
  return undefined;
}

/** Each known container image of a workload, judged by `problemOf`; `fix` ends the message. */
function checkContainerImages(r: CheckedResource, f: Findings, problemOf: (image: string) => string | undefined, fix: string): void {
  for (const { container } of podContainers(r.type, r.props)) {
    const image = container.image;
    if (f.unknown(image) || typeof image !== "string") continue;
    const problem = problemOf(image);
    if (problem) f.violation(`${objectName(r)}: container "${str(container.name) ?? "?"}" image "${image}" ${problem}: ${fix}.`);
  }
}

export const pinnedVersions = resourcePolicy(
  {
    name: "pinned-chart-and-image-versions",
    description: "Helm releases pin an exact chart version; images set in Helm values or workload containers pin a tag other than latest (or a digest).",
    enforcementLevel: "mandatory",
  },
  (type) => isHelmInstall(type) || WORKLOAD_TYPES.includes(type),
  (r, f) => {
    const fix = "pin a version (or a digest)";
    if (WORKLOAD_TYPES.includes(r.type)) return checkContainerImages(r, f, imagePinProblem, fix);
    const version = at(r.props, "version");
    if (!f.unknown(version)) {
      if (typeof version !== "string" || version === "")
        f.violation(`Helm release "${r.name}" has no chart version: pin an exact version so every up installs the same chart.`);
      else if (!EXACT_VERSION.test(version)) f.violation(`Helm release "${r.name}" chart version "${version}" is not exact: pin a version such as "1.2.3".`);
    }
    const values = at(r.props, "values");
    if (f.unknown(values)) return;
    const visit = (node: Plain, path: (string | number)[]): void => {
      if (Array.isArray(node)) return node.forEach((v, i) => visit(v, [...path, i]));
      if (!isObject(node)) return;
      for (const [key, v] of Object.entries(node)) {
        const isImageKey = key === "image" || /Image$/.test(key);
        const where = `Helm release "${r.name}" value ${formatPath([...path, key])}`;
        if (isImageKey && typeof v === "string") {
          const problem = imagePinProblem(v);
          if (problem) f.violation(`${where} "${v}" ${problem}: ${fix}.`);
        } else if (isImageKey && isObject(v) && ("tag" in v || "repository" in v)) {
          const tag = v.tag;
          if (tag instanceof Unknown) continue;
          if (tag === undefined && typeof v.repository === "string") {
            f.violation(`${where} sets repository "${v.repository}" without a tag: ${fix} (the chart's default tag belongs to its own image).`);
          } else if (tag !== undefined && (typeof tag !== "string" || tag === "" || tag === "latest")) {
            f.violation(`${where}.tag is ${JSON.stringify(tag)}: ${fix}.`);
          }
        } else {
          visit(v, [...path, key]);
        }
      }
    };
    visit(values, []);
  },
);

/** Why an image is not pinned by digest (a tag can be moved to other content), or `undefined`. */
export function imageDigestProblem(image: string): string | undefined {
  return /@sha256:[0-9a-f]{64}$/.test(image) ? undefined : "is pinned by tag only";
}

/**
 * Where each chart the program installs takes the images it runs. A release that leaves one
 * unset runs the chart's default, which is a tag: the rule flags it as unpinned.
 */
export const CHART_IMAGE_VALUES: Readonly<Record<string, readonly (readonly string[])[]>> = {
  vault: [["server", "image"]],
  "external-secrets": [["image"], ["webhook", "image"], ["certController", "image"]],
  reloader: [["image"]],
};

export const imagesPinnedByDigest = resourcePolicy(
  {
    name: "images-pinned-by-digest",
    description:
      "Images in workloads and Helm values (helm.sh/v3 Release, helm.sh/v4 Chart) carry a sha256 digest (a tag can be re-pushed; a digest cannot), and a known chart's images are set, not left to its tag-only defaults.",
    enforcementLevel: "mandatory",
  },
  (type) => isHelmInstall(type) || WORKLOAD_TYPES.includes(type),
  (r, f) => {
    const fix = "append @sha256:<digest> (keep the tag for readers)";
    if (WORKLOAD_TYPES.includes(r.type)) return checkContainerImages(r, f, imageDigestProblem, fix);
    const values = at(r.props, "values");
    if (f.unknown(values)) return;
    f.unknown(helmChartUnknown(r.props));
    const paths = helmChartNames(r.props).flatMap((chart) => (Object.hasOwn(CHART_IMAGE_VALUES, chart) ? CHART_IMAGE_VALUES[chart] : []));
    for (const path of paths) {
      const set = at(values, ...path);
      if (set === undefined)
        f.violation(`Helm release "${r.name}" sets no ${path.join(".")}: the chart's default image runs, pinned by tag only. Set it with a digest.`);
    }
    const visit = (node: Plain, path: (string | number)[]): void => {
      if (Array.isArray(node)) return node.forEach((v, i) => visit(v, [...path, i]));
      if (!isObject(node)) return;
      for (const [key, v] of Object.entries(node)) {
        const isImageKey = key === "image" || /Image$/.test(key);
        const where = `Helm release "${r.name}" value ${formatPath([...path, key])}`;
        if (isImageKey && typeof v === "string") {
          const problem = imageDigestProblem(v);
          if (problem) f.violation(`${where} "${v}" ${problem}: ${fix}.`);
        } else if (isImageKey && isObject(v) && typeof v.tag === "string") {
          const digest = typeof v.digest === "string" ? v.digest : undefined;
          if (!/@sha256:[0-9a-f]{64}$/.test(v.tag) && !(digest && /^sha256:[0-9a-f]{64}$/.test(digest)))
            f.violation(`${where}.tag "${v.tag}" is pinned by tag only: ${fix}.`);
        } else {
          visit(v, [...path, key]);
        }
      }
    };
    visit(values, []);
  },
);
