"""Tasks over storage: creation checks, the assign/approve matrix, invoke, cancel, concurrency, wait."""

from __future__ import annotations

import dataclasses
import json
import threading
import time

import pytest

from gaiwan.errors import (FailedPrecondition, InvalidArgument, NotFound, PermissionDenied,
                          ResourceExhausted)
from gaiwan.logs import get_logger
from gaiwan.records import (TASK_QUEUE, FunctionArgument, FunctionIO, OwnerList, QueuedTask, Task,
                            TaskResult,
                            TaskStatus, dumps, loads, task_key)
from gaiwan.roles import Role
from gaiwan.services.access_control import PolicyEngine
from gaiwan.services.management import Caller, Management
from gaiwan.storage.local import LocalStorage

from .conftest import ADMIN, AES128, ALICE, BOB, CAROL, CMAC, FRED, CancelHook, io_spec, spec

S = TaskStatus
INPUTS = [OwnerList("left", ("alice",)), OwnerList("right", ("bob",))]
OUTPUTS = [OwnerList("result", ("alice",))]


def _join(core: Management) -> tuple[str, dict[str, str]]:
    """A private two-party task (participants alice, bob, fred) and the files that fit it."""
    function_id = core.functions.register(FRED, io_spec()).function_id
    task = core.tasks.create(ALICE, function_id, '{"order": "desc"}', "builtin", INPUTS, OUTPUTS)
    files = {
        "left": core.files.register_input(ALICE, "https://h/l.enc", CMAC, AES128).data_id,
        "right": core.files.register_input(BOB, "https://h/r.enc", CMAC, AES128).data_id,
        "result": core.files.register_output(ALICE, "file:///o.enc", AES128).data_id,
    }
    return task.task_id, files


def _ready(core: Management) -> str:
    """The two-party task with all data assigned and every participant's approval."""
    task_id, files = _join(core)
    core.tasks.assign(ALICE, task_id, [("left", files["left"])], [("result", files["result"])])
    core.tasks.assign(BOB, task_id, [("right", files["right"])], [])
    for caller in (ALICE, BOB, FRED):
        core.tasks.approve(caller, task_id)
    return task_id


def _solo(core: Management, **changes: object) -> str:
    """A public echo task with one participant, ready to invoke at once."""
    function_id = core.functions.register(FRED, spec(**changes)).function_id
    return core.tasks.create(ALICE, function_id, '{"message": "hi"}', "builtin", [], []).task_id


def _force(storage: LocalStorage, task_id: str, status: TaskStatus,
           result: TaskResult | None = None) -> None:
    """Writes a status as the scheduler would (compare-and-set on the stored version)."""
    item = storage.get(task_key(task_id))
    task = dataclasses.replace(loads(Task, item.value), status=status, result=result)
    assert storage.transact(conditions={item.key: item.version}, writes={item.key: dumps(task)})


def _queued(storage: LocalStorage) -> list[str]:
    """Ids of the tasks on the queue; each item carries the function as invoked."""
    items = []
    while (lease := storage.dequeue(TASK_QUEUE, 60_000)) is not None:
        queued = loads(QueuedTask, lease.item)
        assert queued.function.function_id == loads(Task, storage.get(task_key(queued.task_id)).value).function_id
        items.append(queued.task_id)
    return items


# ---- CreateTask ---------------------------------------------------------------------------

def test_create_records_arguments_ownership_and_participants(core: Management) -> None:
    """The created task carries final arguments, ownership and participants, status Created."""
    task_id, _ = _join(core)
    task = core.tasks.get(ALICE, task_id)
    assert task.task_id.startswith("task-") and task.creator == "alice" and task.status is S.CREATED
    assert task.function_arguments == {"order": "desc", "mode": "fast"}
    assert task.participants == ("alice", "bob", "fred") and task.function_owner == "fred"


def test_create_allowed_by_attribute(core: Management) -> None:
    """A data owner whose attribute is allowlisted may use a private function."""
    function_id = core.functions.register(FRED, io_spec()).function_id
    assert core.tasks.create(BOB, function_id, '{"order": "a"}', "builtin", INPUTS, OUTPUTS)


@pytest.mark.parametrize("caller, changes, error", [
    (ALICE, {"function_id": "function-nope"}, NotFound),
    (CAROL, {}, PermissionDenied),
    (ALICE, {"executor": "mesapy"}, InvalidArgument),
    (ALICE, {"arguments": "{}"}, InvalidArgument),
    (ALICE, {"arguments": '{"order": "a", "mode": "slow"}'}, InvalidArgument),
    (ALICE, {"arguments": "not json"}, InvalidArgument),
    (ALICE, {"inputs": INPUTS[:1]}, InvalidArgument),
    (ALICE, {"inputs": INPUTS + [OwnerList("ghost", ("alice",))]}, InvalidArgument),
    (ALICE, {"outputs": []}, InvalidArgument),
    (ALICE, {"outputs": OUTPUTS + [OwnerList("more", ("alice",))]}, InvalidArgument),
])
def test_create_rejections(core: Management, caller: Caller, changes: dict, error: type) -> None:
    """Unknown or forbidden functions, bad executors, arguments and ownership lists are refused."""
    function_id = core.functions.register(FRED, io_spec()).function_id
    request = dict(function_id=function_id, arguments='{"order": "a"}', executor="builtin",
                   inputs=INPUTS, outputs=OUTPUTS)
    request.update(changes)
    with pytest.raises(error):
        core.tasks.create(caller, **request)


def test_disabled_function_cannot_be_used(core: Management) -> None:
    """CreateTask refuses a disabled function, and so does InvokeTask for a task made before."""
    function_id = core.functions.register(FRED, spec()).function_id
    task_id = core.tasks.create(ALICE, function_id, '{"message": "x"}', "builtin", [], []).task_id
    core.functions.disable(FRED, function_id)
    with pytest.raises(FailedPrecondition, match="disabled"):
        core.tasks.create(ALICE, function_id, '{"message": "x"}', "builtin", [], [])
    with pytest.raises(FailedPrecondition, match="disabled"):
        core.tasks.invoke(ALICE, task_id)


# ---- AssignData / ApproveTask -------------------------------------------------------------

def test_assign_and_approve_to_approved(core: Management) -> None:
    """Complete data makes the task DataAssigned; every participant's approval makes it Approved."""
    task_id, files = _join(core)
    core.tasks.assign(ALICE, task_id, [("left", files["left"])], [("result", files["result"])])
    assert core.tasks.get(BOB, task_id).status is S.CREATED
    assert core.tasks.assign(BOB, task_id, [("right", files["right"])], []).status is S.DATA_ASSIGNED
    assert core.tasks.approve(ALICE, task_id).status is S.DATA_ASSIGNED
    assert core.tasks.approve(FRED, task_id).status is S.DATA_ASSIGNED
    task = core.tasks.approve(BOB, task_id)
    assert task.status is S.APPROVED and set(task.approved_users) == {"alice", "bob", "fred"}
    assert task.assigned_inputs == {"left": files["left"], "right": files["right"]}


def test_assign_rejections(core: Management) -> None:
    """Non-participants, foreign files, wrong owner sets, bad names and wrong kinds are refused."""
    task_id, files = _join(core)
    shared = core.files.register_fusion_output(ALICE, ["alice", "bob"]).data_id
    cases = [
        (CAROL, [("left", files["left"])], [], PermissionDenied),         # not a participant
        (ALICE, [("right", files["right"])], [], PermissionDenied),      # bob's file
        (BOB, [("left", files["right"])], [], PermissionDenied),         # owners {bob} != {alice}
        (ALICE, [], [("result", shared)], PermissionDenied),             # owners {alice,bob} != {alice}
        (ALICE, [("ghost", files["left"])], [], InvalidArgument),        # unknown name
        (ALICE, [("left", files["left"]), ("left", files["left"])], [], InvalidArgument),
        (ALICE, [("left", files["result"])], [], InvalidArgument),       # an output as input
        (ALICE, [("left", "input-nope")], [], NotFound),
        (ALICE, [], [], InvalidArgument),
    ]
    for caller, inputs, outputs, error in cases:
        with pytest.raises(error):
            core.tasks.assign(caller, task_id, inputs, outputs)
    assert core.tasks.get(ALICE, task_id).assigned_inputs == {}


def test_assign_only_while_created(core: Management) -> None:
    """Once all data is assigned, further assignment is a precondition failure."""
    task_id = _ready(core)
    other = core.files.register_input(ALICE, "https://h/x", CMAC, AES128).data_id
    with pytest.raises(FailedPrecondition):
        core.tasks.assign(ALICE, task_id, [("extra", other)], [])


def test_approve_rejections(core: Management) -> None:
    """Non-participants (admins included) are denied; approval before complete data is refused."""
    task_id, _ = _join(core)
    for caller in (CAROL, ADMIN):
        with pytest.raises(PermissionDenied):
            core.tasks.approve(caller, task_id)
    with pytest.raises(FailedPrecondition, match="not yet fully assigned"):
        core.tasks.approve(ALICE, task_id)
    with pytest.raises(NotFound):
        core.tasks.approve(ALICE, "task-nope")


def test_concurrent_approvals_are_all_recorded(core: Management) -> None:
    """Approvals racing from many threads all land (compare-and-set retries) and end Approved."""
    users = [f"user{i}" for i in range(8)]
    function_id = core.functions.register(
        FRED, spec(arguments=(), outputs=(FunctionIO("result"),))).function_id
    everyone = ["alice", *users]
    task_id = core.tasks.create(ALICE, function_id, "{}", "builtin", [],
                                [OwnerList("result", tuple(everyone))]).task_id
    shared = core.files.register_fusion_output(ALICE, everyone).data_id
    core.tasks.assign(ALICE, task_id, [], [("result", shared)])
    barrier = threading.Barrier(len(everyone))
    errors: list[BaseException] = []

    def approve(user: str) -> None:
        barrier.wait()
        try:
            core.tasks.approve(Caller(user, Role.parse("DataOwner-x")), task_id)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=approve, args=(u,)) for u in everyone]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    task = core.tasks.get(ALICE, task_id)
    assert errors == [] and sorted(task.approved_users) == sorted(everyone)
    assert task.status is S.APPROVED


# ---- InvokeTask ---------------------------------------------------------------------------

def test_single_participant_create_then_invoke(core: Management, storage: LocalStorage) -> None:
    """A one-participant task needs no approval: invoke stages it and queues its id once."""
    task_id = _solo(core)
    task = core.tasks.invoke(ALICE, task_id)
    assert task.status is S.STAGED and core.tasks.get(ALICE, task_id).status is S.STAGED
    assert _queued(storage) == [task_id]
    assert core.functions.usage(FRED, task.function_id).current_usage == 1


def test_single_participant_may_still_approve(core: Management) -> None:
    """Teaclave's single-user flow (approve, then invoke) works too."""
    task_id = _solo(core)
    core.tasks.approve(ALICE, task_id)
    assert core.tasks.invoke(ALICE, task_id).status is S.STAGED


def test_invoke_rejections(core: Management) -> None:
    """Only the creator invokes, only an Approved task, only once."""
    task_id, _ = _join(core)
    with pytest.raises(FailedPrecondition):
        core.tasks.invoke(ALICE, task_id)
    ready = _ready(core)
    for caller in (BOB, ADMIN):
        with pytest.raises(PermissionDenied):
            core.tasks.invoke(caller, ready)
    core.tasks.invoke(ALICE, ready)
    with pytest.raises(FailedPrecondition):
        core.tasks.invoke(ALICE, ready)


def test_racing_invokes_enqueue_exactly_once(core: Management, storage: LocalStorage) -> None:
    """Of concurrent invocations one wins; the rest fail and the queue holds one entry."""
    task_id = _solo(core)
    barrier = threading.Barrier(6)
    outcomes: list[object] = []

    def invoke() -> None:
        barrier.wait()
        try:
            outcomes.append(core.tasks.invoke(ALICE, task_id).status)
        except FailedPrecondition as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=invoke) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count(S.STAGED) == 1
    assert all(isinstance(o, FailedPrecondition) for o in outcomes if o is not S.STAGED)
    assert _queued(storage) == [task_id]
    assert core.functions.usage(FRED, core.tasks.get(ALICE, task_id).function_id).current_usage == 1


def test_quota_reached_is_resource_exhausted(core: Management) -> None:
    """A function with quota 1 runs once; the next invocation is RESOURCE_EXHAUSTED."""
    function_id = core.functions.register(FRED, spec(usage_quota=1)).function_id
    first, second = (core.tasks.create(ALICE, function_id, '{"message": "x"}', "builtin", [], []).task_id
                     for _ in range(2))
    core.tasks.invoke(ALICE, first)
    with pytest.raises(ResourceExhausted):
        core.tasks.invoke(ALICE, second)
    assert core.tasks.get(ALICE, second).status is S.APPROVED
    assert core.functions.usage(FRED, function_id).current_usage == 1


class _SlowAuthorizer:
    """The real policy engine, answering as slowly as a loaded access control service would
    (`delay_s`), and counting the calls."""

    def __init__(self, engine: PolicyEngine, delay_s: float = 0.02) -> None:
        self._engine = engine
        self._delay = delay_s
        self.calls = 0

    def authorize_all(self, queries, entities):  # type: ignore[no-untyped-def]
        self.calls += 1
        time.sleep(self._delay)
        return self._engine.authorize_all(queries, entities)


def test_concurrent_invocations_of_one_function_all_succeed(
        management_storage: LocalStorage, engine: PolicyEngine, hook: CancelHook) -> None:
    """Tasks of one function invoked at once all stage: they race only on its usage count, and a
    retry after losing that race is not decided again."""
    authorizer = _SlowAuthorizer(engine)
    core = Management(management_storage, authorizer, hook, get_logger("management"))
    function_id = core.functions.register(FRED, spec()).function_id
    task_ids = [core.tasks.create(ALICE, function_id, '{"message": "hi"}', "builtin", [], []).task_id
                for _ in range(8)]
    barrier = threading.Barrier(len(task_ids))
    outcomes: list[object] = []

    def invoke(task_id: str) -> None:
        barrier.wait()
        try:
            outcomes.append(core.tasks.invoke(ALICE, task_id).status)
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            outcomes.append(exc)

    threads = [threading.Thread(target=invoke, args=(t,)) for t in task_ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert outcomes == [S.STAGED] * len(task_ids)
    assert core.functions.usage(FRED, function_id).current_usage == len(task_ids)
    invoke_decisions = authorizer.calls - 1  # the usage query above asked once
    assert invoke_decisions <= 2 * len(task_ids)  # once each, or twice on a stale memory


def test_invokes_run_decision_is_what_the_scheduler_would_decide_on(
        core: Management, storage: LocalStorage, engine: PolicyEngine) -> None:
    """The queued item names its invoker and the basis of InvokeTask's run decision; a scheduler
    seeing the same records under the same policy set dispatches on it without asking."""
    from gaiwan.services.scheduler import Scheduler
    from gaiwan.services.scheduler._nodes import Capabilities

    task_id = _ready(core)
    core.tasks.invoke(ALICE, task_id)
    counting = _SlowAuthorizer(engine, delay_s=0)
    scheduler = Scheduler(storage, 60_000, counting.authorize_all, get_logger("scheduler"),
                          policy_set=lambda: engine.policy_set)
    scheduler.connect("node-a", Capabilities(frozenset({"builtin"}), frozenset({"join"}), 1))
    while scheduler.dispatcher.step():
        pass
    task = loads(Task, storage.get(task_key(task_id)).value)
    assert task.status is S.RUNNING and counting.calls == 0


def test_invoke_after_function_deleted(core: Management) -> None:
    """A task whose function was deleted cannot be invoked."""
    task_id = _solo(core)
    core.functions.delete(FRED, core.tasks.get(ALICE, task_id).function_id)
    with pytest.raises(FailedPrecondition, match="no longer exists"):
        core.tasks.invoke(ALICE, task_id)


# ---- CancelTask ---------------------------------------------------------------------------

@pytest.mark.parametrize("stage", ["created", "data_assigned", "approved", "staged"])
def test_cancel_before_running(core: Management, hook: CancelHook, stage: str) -> None:
    """Before it runs a task is canceled at once, without asking the scheduler."""
    task_id, files = _join(core)
    if stage != "created":
        core.tasks.assign(ALICE, task_id, [("left", files["left"])], [("result", files["result"])])
        core.tasks.assign(BOB, task_id, [("right", files["right"])], [])
    if stage in ("approved", "staged"):
        for caller in (ALICE, BOB, FRED):
            core.tasks.approve(caller, task_id)
    if stage == "staged":
        core.tasks.invoke(ALICE, task_id)
    task = core.tasks.cancel(ALICE, task_id)
    assert task.status is S.CANCELED and core.tasks.get(BOB, task_id).status is S.CANCELED
    assert hook.calls == []


def test_cancel_running_asks_the_scheduler(core: Management, storage: LocalStorage,
                                           hook: CancelHook) -> None:
    """A running task ends Canceled and the scheduler is asked to stop it."""
    task_id = _solo(core)
    core.tasks.invoke(ALICE, task_id)
    _force(storage, task_id, S.RUNNING)
    assert core.tasks.cancel(ADMIN, task_id).status is S.CANCELED
    assert hook.calls == [task_id]


def test_cancel_running_stays_canceled_when_scheduler_unreachable(
        core: Management, storage: LocalStorage, hook: CancelHook) -> None:
    """Failing to reach the scheduler is logged; the task stays Canceled."""
    hook.fail = True
    task_id = _solo(core)
    core.tasks.invoke(ALICE, task_id)
    _force(storage, task_id, S.RUNNING)
    core.tasks.cancel(ALICE, task_id)
    assert core.tasks.get(ALICE, task_id).status is S.CANCELED and hook.calls == [task_id]


@pytest.mark.parametrize("status", [S.FINISHED, S.FAILED, S.CANCELED])
def test_cancel_ended_task_refused(core: Management, storage: LocalStorage,
                                   status: TaskStatus) -> None:
    """Finished, Failed and Canceled tasks cannot be canceled."""
    task_id = _solo(core)
    _force(storage, task_id, status)
    with pytest.raises(FailedPrecondition):
        core.tasks.cancel(ALICE, task_id)


def test_cancel_creator_or_admin_only(core: Management) -> None:
    """Other participants may not cancel."""
    task_id, _ = _join(core)
    for caller in (BOB, FRED, CAROL):
        with pytest.raises(PermissionDenied):
            core.tasks.cancel(caller, task_id)


# ---- GetTask / WaitTask -------------------------------------------------------------------

def test_get_task_participants_and_admin(core: Management) -> None:
    """Participants and admins read a task; anyone else is denied."""
    task_id, _ = _join(core)
    for caller in (ALICE, BOB, FRED, ADMIN):
        assert core.tasks.get(caller, task_id).task_id == task_id
    with pytest.raises(PermissionDenied):
        core.tasks.get(CAROL, task_id)
    with pytest.raises(NotFound):
        core.tasks.get(ALICE, "task-nope")


def test_wait_returns_when_another_thread_ends_the_task(core: Management, storage: LocalStorage) -> None:
    """WaitTask wakes on the terminal write, not on intermediate ones, and well before its timeout."""
    task_id = _solo(core)
    core.tasks.invoke(ALICE, task_id)

    def scheduler() -> None:
        time.sleep(0.1)
        _force(storage, task_id, S.RUNNING)
        time.sleep(0.1)
        _force(storage, task_id, S.FINISHED, TaskResult(return_value=b"hi"))

    thread = threading.Thread(target=scheduler)
    start = time.monotonic()
    thread.start()
    task = core.tasks.wait(ALICE, task_id, 10_000)
    thread.join()
    assert task.status is S.FINISHED and task.result == TaskResult(return_value=b"hi")
    assert time.monotonic() - start < 5


def test_wait_times_out_with_current_state(core: Management) -> None:
    """Without a terminal write, WaitTask returns the task as it is once the timeout passes."""
    task_id = _solo(core)
    start = time.monotonic()
    task = core.tasks.wait(ALICE, task_id, 300)
    elapsed = time.monotonic() - start
    assert task.status is S.APPROVED and 0.25 <= elapsed < 3


def test_wait_on_ended_task_returns_at_once_and_checks_access(core: Management,
                                                              storage: LocalStorage) -> None:
    """An ended task is returned immediately; non-participants are denied."""
    task_id = _solo(core)
    _force(storage, task_id, S.FAILED, TaskResult(failure="boom"))
    start = time.monotonic()
    assert core.tasks.wait(ADMIN, task_id, 0).status is S.FAILED
    assert time.monotonic() - start < 1
    with pytest.raises(PermissionDenied):
        core.tasks.wait(BOB, task_id, 100)


def test_task_arguments_never_logged(core: Management, caplog: pytest.LogCaptureFixture) -> None:
    """Argument values stay out of the log records management writes."""
    function_id = core.functions.register(FRED, spec(arguments=(FunctionArgument("message"),))).function_id
    with caplog.at_level("INFO", logger="gaiwan"):
        core.tasks.create(ALICE, function_id, json.dumps({"message": "top-secret-value"}), "builtin", [], [])
    assert caplog.records and all("top-secret-value" not in str(getattr(r, "fields", {})) + r.getMessage()
                                  for r in caplog.records)
