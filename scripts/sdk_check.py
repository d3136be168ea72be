"""Drive the flowctl emulator with Genesys' official Python SDK (purecloudplatformclientv2).

The emulator must be indistinguishable from Genesys Cloud for the parts flowctl uses: every
call below goes through the SDK's own request and model code, and every model must
deserialize with its fields set. Usage: sdk_check.py BASE_URL CLIENT_ID CLIENT_SECRET
"""

import sys
import time
import urllib.request

import PureCloudPlatformClientV2 as gc
from PureCloudPlatformClientV2.rest import ApiException

base, client_id, client_secret = sys.argv[1], sys.argv[2], sys.argv[3]
passed, failed = 0, 0


def check(name, fn):
    global passed, failed
    try:
        fn()
        passed += 1
        print(f"ok   {name}")
    except Exception as e:  # report every failure, keep going
        failed += 1
        print(f"FAIL {name}: {type(e).__name__}: {e}")


state = {}

MODULE_YAML = """commonModule:
  name: SDK Check Module
  division: Home
  defaultLanguage: en-us
  startUpTaskActions:
    - playAudio:
        name: Hello
        audio:
          tts: Hello from the SDK check
    - endTask:
        name: Back
"""

PARENT_YAML = """inboundCall:
  name: SDK Check Parent
  division: Home
  startUpRef: /inboundCall/tasks/task[Start_10]
  defaultLanguage: en-us
  tasks:
    - task:
        name: Start
        refId: Start_10
        actions:
          - callCommonModule:
              name: Call the module
              commonModule:
                SDK Check Module:
                  ver_latestPublished:
                    inputs: {}
          - transferToAcd:
              name: To the queue
              targetQueue:
                lit:
                  name: General Support
          - disconnect:
              name: Bye
"""


def token():
    client = gc.api_client.ApiClient(base).get_client_credentials_token(client_id, client_secret)
    assert client.access_token, "no access token"
    state["client"] = client
    state["architect"] = gc.ArchitectApi(client)


def bad_credentials():
    try:
        gc.api_client.ApiClient(base).get_client_credentials_token(client_id, "wrong")
    except Exception as e:
        assert "invalid_client" in str(e) or "401" in str(e), e
        return
    raise AssertionError("bad credentials were accepted")


def create_flow():
    body = gc.Flow()
    body.name = "SDK Created Flow"
    body.type = "INBOUNDCALL"
    body.description = "created by the SDK check"
    flow = state["architect"].post_flows(body)
    assert flow.id and flow.name == "SDK Created Flow" and flow.type == "INBOUNDCALL", flow
    assert flow.division is not None and flow.division.name == "Home", flow.division
    state["created"] = flow.id


def list_flows():
    listing = state["architect"].get_flows(type=["inboundcall"], name="sdk created", page_size=25, page_number=1)
    names = [f.name for f in listing.entities]
    assert "SDK Created Flow" in names, names
    assert listing.page_count == 1 and listing.total >= 1, listing


def read_flow():
    flow = state["architect"].get_flow(state["created"])
    assert flow.id == state["created"] and flow.description == "created by the SDK check", flow


def missing_flow_is_a_typed_404():
    try:
        state["architect"].get_flow("00000000-0000-0000-0000-000000000000")
    except ApiException as e:
        assert e.status == 404, e.status
        assert "not.found" in (e.body or ""), e.body
        return
    raise AssertionError("no 404")


def publish(yaml_text, key):
    job = state["architect"].post_flows_jobs()
    assert job.id and job.presigned_url and job.headers, job
    req = urllib.request.Request(job.presigned_url, data=yaml_text.encode(), method="PUT", headers=dict(job.headers))
    with urllib.request.urlopen(req) as resp:
        assert resp.status == 200, resp.status
    deadline = time.time() + 30
    while True:
        st = state["architect"].get_flows_job(job.id, expand=["messages"])
        if st.status in ("Success", "Failure"):
            break
        assert time.time() < deadline, "job never finished"
        time.sleep(0.1)
    assert st.status == "Success", [m.text for m in (st.messages or [])]
    assert st.flow is not None and st.flow.id, st
    state[key] = st.flow.id


def job_module():
    publish(MODULE_YAML, "module")


def job_parent():
    publish(PARENT_YAML, "parent")
    flow = state["architect"].get_flow(state["parent"])
    v = flow.published_version
    assert v is not None and v.id == "1.0", v
    assert isinstance(v.date_created, int), type(v.date_created)
    assert v.date_published is not None, v


def failed_job_has_messages():
    job = state["architect"].post_flows_jobs()
    broken = PARENT_YAML.replace("SDK Check Parent", "SDK Broken").replace("General Support", "No Such Queue")
    req = urllib.request.Request(job.presigned_url, data=broken.encode(), method="PUT", headers=dict(job.headers))
    urllib.request.urlopen(req).close()
    for _ in range(300):
        st = state["architect"].get_flows_job(job.id, expand=["messages"])
        if st.status in ("Success", "Failure"):
            break
        time.sleep(0.1)
    assert st.status == "Failure", st.status
    assert any("No Such Queue" in m.text and m.type == "Error" for m in st.messages), st.messages


def consumed():
    listing = state["architect"].get_architect_dependencytracking_consumedresources(
        state["parent"], "1.0", "INBOUNDCALLFLOW", resource_type=["COMMONMODULEFLOW", "QUEUE"]
    )
    kinds = sorted((e.type, e.name) for e in listing.entities)
    assert kinds == [("COMMONMODULEFLOW", "SDK Check Module"), ("QUEUE", "General Support")], kinds


def consuming():
    listing = state["architect"].get_architect_dependencytracking_consumingresources(
        state["module"], "COMMONMODULEFLOW", flow_filter="published"
    )
    assert [(e.id, e.type) for e in listing.entities] == [(state["parent"], "INBOUNDCALLFLOW")], listing.entities


def build_status():
    st = state["architect"].get_architect_dependencytracking_build()
    assert st.status == "OPERATIONAL", st.status


def queues_divisions_org():
    queues = gc.RoutingApi(state["client"]).get_routing_queues(name="support")
    assert [q.name for q in queues.entities] == ["General Support"], queues.entities
    divisions = gc.AuthorizationApi(state["client"]).get_authorization_divisions(name="Home")
    assert divisions.entities[0].home_division is True, divisions.entities
    org = gc.OrganizationApi(state["client"]).get_organizations_me()
    assert org.id and org.name, org


BOT_YAML = """botFlow:
  name: SDK Check Bot
  division: Home
  startUpRef: "/botFlow/bots/bot[Start_10]"
  defaultLanguage: en-us
  bots:
    - bot:
        name: Start
        refId: Start_10
        actions:
          - exitBotFlow:
              name: Done
"""

BOT_CALLER_YAML = """inboundCall:
  name: SDK Check Bot Caller
  division: Home
  startUpRef: /inboundCall/tasks/task[Start_10]
  defaultLanguage: en-us
  tasks:
    - task:
        name: Start
        refId: Start_10
        actions:
          - evaluateScheduleGroup:
              name: Open?
              scheduleGroup:
                lit:
                  name: SDK Hours
          - callBotFlow:
              name: Ask the bot
              botFlow:
                SDK Check Bot:
                  ver_latestPublished: {}
          - dataTableLookup:
              name: Look up
              dataTable:
                SDK Table:
                  foundOutputs: {}
          - disconnect:
              name: Bye
"""


def referenced_resources():
    groups = state["architect"].get_architect_schedulegroups(page_size=100, page_number=1)
    assert [g.name for g in groups.entities] == ["SDK Hours"], groups.entities
    tables = state["architect"].get_flows_datatables(page_size=100, page_number=1)
    assert [t.name for t in tables.entities] == ["SDK Table"], tables.entities
    prompts = state["architect"].get_architect_prompts(page_size=100, page_number=1)
    assert [p.name for p in prompts.entities] == ["SDKPrompt"], prompts.entities
    actions = gc.IntegrationsApi(state["client"]).get_integrations_actions(page_size=100, page_number=1)
    assert [a.name for a in actions.entities] == ["SDK Action"], actions.entities


def bot_flow_and_its_caller():
    publish(BOT_YAML, "bot")
    publish(BOT_CALLER_YAML, "bot_caller")
    listing = state["architect"].get_architect_dependencytracking_consumedresources(
        state["bot_caller"], "1.0", "INBOUNDCALLFLOW",
        resource_type=["BOTFLOW", "SCHEDULEGROUP", "DATATABLE"],
    )
    kinds = sorted((e.type, e.name) for e in listing.entities)
    assert kinds == [("BOTFLOW", "SDK Check Bot"), ("DATATABLE", "SDK Table"), ("SCHEDULEGROUP", "SDK Hours")], kinds


def latest_configuration_is_an_object():
    config = state["architect"].get_flow_latestconfiguration(state["module"])
    assert isinstance(config, dict), type(config)


def unlock():
    flow = state["architect"].post_flows_actions_checkout(state["module"])
    assert flow.locked_client is not None or flow.locked_user is not None, flow
    flow = state["architect"].post_flows_actions_unlock(state["module"])
    assert flow.locked_client is None and flow.locked_user is None, flow


def versions():
    listing = state["architect"].get_flow_versions(state["module"])
    assert [v.id for v in listing.entities] == ["1.0"], listing.entities


for name, fn in [
    ("client-credentials token", token),
    ("bad credentials are refused", bad_credentials),
    ("create a flow", create_flow),
    ("list flows (type filter, name substring, paging)", list_flows),
    ("read a flow", read_flow),
    ("a missing flow is a typed 404", missing_flow_is_a_typed_404),
    ("register, upload and poll a job to Success (module)", job_module),
    ("the same for a flow that calls it", job_parent),
    ("a failed job carries its messages", failed_job_has_messages),
    ("consumed resources", consumed),
    ("consuming resources", consuming),
    ("dependency index build status", build_status),
    ("queues, divisions, organization", queues_divisions_org),
    ("flow versions", versions),
    ("schedule groups, data tables, prompts, data actions", referenced_resources),
    ("a bot flow, and a flow calling it with schedule group and data table", bot_flow_and_its_caller),
    ("latest configuration is a JSON object", latest_configuration_is_an_object),
    ("checkout, then unlock", unlock),
]:
    if "client" not in state and name != "client-credentials token":
        failed += 1
        print(f"FAIL {name}: no token")
        continue
    check(name, fn)

print(f"sdk-check: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
