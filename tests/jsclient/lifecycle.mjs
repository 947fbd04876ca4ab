// The Azure SDK for JavaScript driving the served emulator, unchanged but for its endpoint and CA.
//
//   NODE_EXTRA_CA_CERTS=ca.pem RUNCOMMAND_JS_CLIENT_SECRET=... node lifecycle.mjs '<config JSON>'
//
// Signs in with ClientSecretCredential against the emulator's token endpoint, then runs a managed run-command
// lifecycle (create, update, get with instanceView, list, delete, get after delete) on a VM and on a scale-set VM
// at the SDK's default api-version, or (mode "create") times one create with the SDK's own polling interval and
// reads its instance view. Prints one JSON document on stdout; on a failure, {"error": ...} and exit code 1.
//
// Mode "list" lists every run command of both targets, page by page.
//
// config: {base, tenant, clientId, subscription, package ("@azure/arm-compute" or an npm alias), mode
// ("lifecycle" | "create" | "list"), resourceGroup, vm, scaleSet, instanceId, pollMs (lifecycle polling interval),
// script, source (mode "create": the whole script source, default {script}), protectedValue, runAsPassword (test
// values the answers must never show)}. The client secret comes from
// the environment (RUNCOMMAND_JS_CLIENT_SECRET), not the command line.
import { createRequire } from "node:module";
import { ClientSecretCredential } from "@azure/identity";

const config = JSON.parse(process.argv[2] ?? "{}");
const require = createRequire(import.meta.url);
const { ComputeManagementClient } = await import(config.package);
const sdkVersion = require(`${config.package}/package.json`).version;

const credential = new ClientSecretCredential(config.tenant, config.clientId, process.env.RUNCOMMAND_JS_CLIENT_SECRET, {
  authorityHost: config.base,
  disableInstanceDiscovery: true,
});
const client = new ComputeManagementClient(credential, config.subscription, { endpoint: config.base });

// What a run command looks like to the test: the fields it asserts, nothing the SDK added.
function summary(resource) {
  const view = resource.instanceView;
  return {
    name: resource.name,
    id: resource.id,
    type: resource.type,
    location: resource.location,
    provisioningState: resource.provisioningState,
    source: resource.source,
    parameters: resource.parameters,
    protectedParameters: resource.protectedParameters,
    runAsUser: resource.runAsUser,
    runAsPassword: resource.runAsPassword,
    timeoutInSeconds: resource.timeoutInSeconds,
    systemData: resource.systemData,
    instanceView: view && {
      executionState: view.executionState,
      exitCode: view.exitCode,
      output: view.output,
      error: view.error,
    },
  };
}

// The SDK's operations for one target, as functions of the run-command name.
function operationsFor(target) {
  const rg = config.resourceGroup;
  if (target === "vm") {
    const ops = client.virtualMachineRunCommands;
    return {
      create: (name, body, options) => ops.beginCreateOrUpdateAndWait(rg, config.vm, name, body, options),
      update: (name, body, options) => ops.beginUpdateAndWait(rg, config.vm, name, body, options),
      get: (name, options) => ops.getByVirtualMachine(rg, config.vm, name, options),
      list: (options) => ops.listByVirtualMachine(rg, config.vm, options),
      remove: (name, options) => ops.beginDeleteAndWait(rg, config.vm, name, options),
    };
  }
  const ops = client.virtualMachineScaleSetVMRunCommands;
  const [set, id] = [config.scaleSet, config.instanceId];
  return {
    create: (name, body, options) => ops.beginCreateOrUpdateAndWait(rg, set, id, name, body, options),
    update: (name, body, options) => ops.beginUpdateAndWait(rg, set, id, name, body, options),
    get: (name, options) => ops.get(rg, set, id, name, options),
    list: (options) => ops.list(rg, set, id, options),
    remove: (name, options) => ops.beginDeleteAndWait(rg, set, id, name, options),
  };
}

async function timed(step, work) {
  const started = performance.now();
  try {
    const value = await work();
    return { value, ms: Math.round(performance.now() - started) };
  } catch (error) {
    error.step = step;
    throw error;
  }
}

async function lifecycle(target) {
  const ops = operationsFor(target);
  const polling = { updateIntervalInMs: config.pollMs };
  const name = "js-rc";
  const created = await timed(`${target}: create`, () =>
    ops.create(
      name,
      {
        location: "westus",
        source: { script: config.script },
        parameters: [{ name: "greeting", value: "hello" }],
        protectedParameters: [{ name: "token", value: config.protectedValue }],
        runAsUser: "azureuser",
        runAsPassword: config.runAsPassword,
        timeoutInSeconds: 120,
      },
      polling,
    ),
  );
  const updated = await timed(`${target}: update`, () =>
    ops.update(name, { source: { script: `${config.script} again` }, timeoutInSeconds: 60 }, polling),
  );
  const shown = await timed(`${target}: get`, () => ops.get(name, { expand: "instanceView" }));
  const listed = await timed(`${target}: list`, async () => {
    const names = [];
    for await (const item of ops.list()) names.push(item.name);
    return names;
  });
  const deleted = await timed(`${target}: delete`, () => ops.remove(name, polling));
  let afterDelete;
  try {
    await ops.get(name);
    afterDelete = { found: true };
  } catch (error) {
    afterDelete = { statusCode: error.statusCode, code: error.code };
  }
  return {
    created: summary(created.value),
    updated: summary(updated.value),
    shown: summary(shown.value),
    listed: listed.value,
    deleted: deleted.value === undefined,
    afterDelete,
    ms: { create: created.ms, update: updated.ms, get: shown.ms, list: listed.ms, delete: deleted.ms },
  };
}

async function createOne() {
  const ops = operationsFor("vm");
  // No updateIntervalInMs: the SDK's own interval (Retry-After of the answers, else its default).
  const body = { location: "westus", source: config.source ?? { script: config.script } };
  const created = await timed("vm: create", () => ops.create("js-timed", body));
  const shown = await timed("vm: get", () => ops.get("js-timed", { expand: "instanceView" }));
  return { created: summary(created.value), shown: summary(shown.value), ms: created.ms };
}

async function listAll() {
  const names = {};
  for (const target of ["vm", "vmss"]) {
    names[target] = [];
    for await (const item of operationsFor(target).list()) names[target].push(item.name);
  }
  return names;
}

try {
  const result = { package: config.package, sdkVersion };
  if (config.mode === "create") {
    result.create = await createOne();
  } else if (config.mode === "list") {
    result.list = await listAll();
  } else {
    result.vm = await lifecycle("vm");
    result.scaleSetVm = await lifecycle("vmss");
  }
  process.stdout.write(`${JSON.stringify(result)}\n`);
} catch (error) {
  const failure = {
    step: error.step,
    name: error.name,
    message: error.message,
    statusCode: error.statusCode,
    code: error.code,
    details: error.details,
  };
  process.stdout.write(`${JSON.stringify({ package: config.package, sdkVersion, error: failure })}\n`);
  process.exitCode = 1;
}
