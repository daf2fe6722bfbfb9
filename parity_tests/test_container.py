"""ModuleList, ModuleDict, ParameterList, ParameterDict: each operation side by side with torch's (the
same operations on both engines' containers must leave the same keys, children and state_dict)."""

import re
from collections import OrderedDict

import numpy as np
import pytest
import torch

from scratch import nn
from torch_ref.convert import from_torch, to_torch

T = torch.nn


def names(container):
    """The container's children as (key, class name) and its state_dict keys: what both engines must share."""
    return [(k, type(v).__name__) for k, v in container._modules.items()], list(container.state_dict())


def linears(engine, sizes):
    return [engine.Linear(a, b) for a, b in sizes]


SIZES = [(2, 3), (3, 4), (4, 5), (5, 6)]


@pytest.mark.parametrize("operation", [
    lambda m, e: m.append(e.Linear(6, 7)),
    lambda m, e: m.extend([e.Linear(6, 7), e.ReLU()]),
    lambda m, e: m.insert(1, e.Tanh()),
    lambda m, e: m.insert(4, e.Tanh()),
    lambda m, e: m.pop(1),
    lambda m, e: m.pop(-1),
    lambda m, e: m.__delitem__(0),
    lambda m, e: m.__delitem__(slice(1, 3)),
    lambda m, e: m.__delitem__(slice(None, None, 2)),
    lambda m, e: m.__setitem__(-2, e.Sigmoid()),
    lambda m, e: m.__iadd__([e.ReLU()]),
], ids=["append", "extend", "insert", "insert-end", "pop", "pop-negative", "del", "del-slice", "del-step",
        "setitem-negative", "iadd"])
def test_module_list_operations_as_torch(operation):
    ours, theirs = nn.ModuleList(linears(nn, SIZES)), T.ModuleList(linears(T, SIZES))
    operation(ours, nn)
    operation(theirs, T)
    assert names(ours) == names(theirs)
    assert len(ours) == len(theirs)


def test_module_list_indexing_and_slicing():
    layers = linears(nn, SIZES)
    ours = nn.ModuleList(layers)
    assert ours[0] is layers[0] and ours[-1] is layers[-1] and ours[-4] is layers[0]
    part = ours[1:3]
    assert type(part) is nn.ModuleList and list(part) == layers[1:3]
    assert list(part.state_dict()) == ["0.weight", "0.bias", "1.weight", "1.bias"]  # renumbered, as torch
    assert list(ours[::-1]) == layers[::-1]
    assert list(iter(ours)) == layers and layers[2] in ours and nn.Linear(1, 1) not in ours
    combined = ours + nn.ModuleList([nn.ReLU()])
    assert type(combined) is nn.ModuleList and len(combined) == 5 and len(ours) == 4
    for bad in (4, -5):
        with pytest.raises(IndexError, match=f"ModuleList: index {bad} is out of range"):
            ours[bad]
        with pytest.raises(IndexError):
            T.ModuleList(linears(T, SIZES))[bad]


def test_module_list_state_dict_and_no_forward():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = nn.ModuleList(linears(nn, SIZES[:2]))

    class TorchNet(T.Module):
        def __init__(self):
            super().__init__()
            self.layers = T.ModuleList(linears(T, SIZES[:2]))

    assert list(Net().state_dict()) == list(TorchNet().state_dict()) == [
        "layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias"]
    for container in (nn.ModuleList(), nn.ModuleDict()):
        with pytest.raises(NotImplementedError, match=re.escape("missing the required \"forward\" function")):
            container(np.ones(2))
    with pytest.raises(TypeError, match=re.escape("ModuleList.extend should be called with an iterable")):
        nn.ModuleList().extend(nn.ReLU())


def test_module_list_repr_as_torch():
    ours = nn.ModuleList([nn.Linear(2, 3), nn.Linear(2, 3), nn.ReLU(), nn.Linear(2, 3)])
    theirs = T.ModuleList([T.Linear(2, 3), T.Linear(2, 3), T.ReLU(), T.Linear(2, 3)])
    assert repr(ours) == repr(theirs)
    assert repr(nn.ModuleList()) == repr(T.ModuleList())


@pytest.mark.parametrize("operation", [
    lambda m, e: m.update({"z": e.ReLU(), "a": e.Tanh()}),
    lambda m, e: m.update([("z", e.ReLU()), ("a", e.Tanh())]),
    lambda m, e: m.update(OrderedDict([("z", e.ReLU())])),
    lambda m, e: m.__setitem__("b", e.Sigmoid()),
    lambda m, e: m.__setitem__("new", e.Sigmoid()),
    lambda m, e: m.__delitem__("b"),
    lambda m, e: m.pop("c"),
    lambda m, e: m.clear(),
], ids=["update-dict", "update-pairs", "update-ordered", "replace", "add", "del", "pop", "clear"])
def test_module_dict_operations_as_torch(operation):
    ours = nn.ModuleDict({"c": nn.Linear(2, 3), "b": nn.Linear(3, 4)})
    theirs = T.ModuleDict({"c": T.Linear(2, 3), "b": T.Linear(3, 4)})
    operation(ours, nn)
    operation(theirs, T)
    assert names(ours) == names(theirs)
    assert list(ours.keys()) == list(theirs.keys()) and list(ours) == list(theirs)
    assert [type(v).__name__ for v in ours.values()] == [type(v).__name__ for v in theirs.values()]
    assert [k for k, _ in ours.items()] == [k for k, _ in theirs.items()]


def test_module_dict_access_and_errors():
    relu = nn.ReLU()
    ours = nn.ModuleDict({"act": relu})
    assert ours["act"] is relu and "act" in ours and "other" not in ours and len(ours) == 1
    with pytest.raises(KeyError):
        ours["other"]
    with pytest.raises(TypeError, match=re.escape("ModuleDict.update should be called with an iterable")):
        ours.update(3)
    with pytest.raises(ValueError, match=re.escape("element #0 has length 3; 2 is required")):
        ours.update([("a", nn.ReLU(), 1)])
    with pytest.raises(TypeError, match=re.escape("element #0 should be Iterable")):
        ours.update([1])


def test_parameter_list_as_torch():
    values = [np.ones(3), np.zeros((2, 2)), np.full(4, 2.0)]
    ours, theirs = nn.ParameterList(values), T.ParameterList([torch.tensor(v) for v in values])
    ours.append(np.ones(1))
    theirs.append(torch.ones(1, dtype=torch.float64))
    ours.extend([np.zeros(2)])
    theirs.extend([torch.zeros(2, dtype=torch.float64)])
    ours[-1] = np.full(2, 3.0)
    theirs[-1] = torch.full((2,), 3.0, dtype=torch.float64)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["0", "1", "2", "3", "4"]
    for a, b in zip(ours, theirs, strict=True):
        assert isinstance(a, nn.Parameter)
        np.testing.assert_array_equal(a.data, b.detach().numpy())
    part = ours[1:4:2]
    assert type(part) is nn.ParameterList and [p is q for p, q in zip(part, [ours[1], ours[3]])] == [True, True]
    assert ours[-5] is ours[0] and len(ours) == 5
    with pytest.raises(IndexError, match=re.escape("ParameterList: index 5 is out of range")):
        ours[5]
    with pytest.raises(RuntimeError, match=re.escape("ParameterList should not be called.")):
        ours(np.ones(1))
    with pytest.raises(TypeError, match=re.escape("ParameterList.extend should be called with an iterable")):
        ours.extend(np.ones(3))
    assert repr(nn.ParameterList([np.ones(3, np.float32)])) == \
        "ParameterList(  (0): Parameter containing: [float32 of size 3])"


def test_parameter_dict_as_torch():
    ours = nn.ParameterDict({"w": np.ones(2), "b": np.zeros(3)})
    theirs = T.ParameterDict({"w": torch.ones(2), "b": torch.zeros(3)})
    assert list(ours) == list(theirs) == ["b", "w"]  # torch's quirk: a plain dict's keys are sorted
    ordered = nn.ParameterDict(OrderedDict([("w", np.ones(2)), ("b", np.zeros(3))]))
    assert list(ordered.state_dict()) == ["w", "b"]
    for container in (ours, theirs):
        container["z"] = np.ones(1) if container is ours else torch.ones(1)
        container.setdefault("a", np.ones(4) if container is ours else torch.ones(4))
        del container["w"]
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["b", "z", "a"]
    key, value = ours.popitem()
    assert key == theirs.popitem()[0] == "a" and isinstance(value, nn.Parameter)
    assert ours.get("missing", 7) == 7 and "b" in ours and list(reversed(ours)) == ["z", "b"]
    merged = ours | nn.ParameterDict([("q", np.ones(1))])
    assert list(merged) == ["b", "z", "q"] and list(ours) == ["b", "z"]
    assert list(ours.fromkeys(["x", "y"], np.ones(1))) == ["x", "y"]
    ours.clear()
    assert len(ours) == 0 and list(ours.state_dict()) == []
    with pytest.raises(TypeError, match=re.escape("ParameterDict cannot be used as a key as it is not a string")):
        ours[0] = np.ones(1)
    with pytest.raises(RuntimeError, match=re.escape("ParameterDict should not be called.")):
        ours(np.ones(1))


def test_nested_containers_convert_both_ways_with_torch_keys():
    model = nn.Sequential(
        nn.ModuleList([nn.Linear(3, 4), nn.ModuleDict({"proj": nn.Linear(4, 2), "act": nn.ReLU()})]),
        nn.ParameterList([np.ones(3, np.float32), np.zeros((2, 2), np.float32)]),
        nn.ParameterDict([("z", np.arange(2, dtype=np.float32)), ("a", np.ones(1, np.float32))]))
    model[1][0].requires_grad = False
    twin = to_torch(model)
    assert list(twin.state_dict()) == list(model.state_dict()) == [
        "0.0.weight", "0.0.bias", "0.1.proj.weight", "0.1.proj.bias", "1.0", "1.1", "2.z", "2.a"]
    assert isinstance(twin[0], T.ModuleList) and isinstance(twin[2], T.ParameterDict)
    assert not twin[1][0].requires_grad
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value, twin.state_dict()[key].numpy())
    back = from_torch(twin)
    assert [type(m).__name__ for _, m in back.named_modules()] == [type(m).__name__ for _, m in model.named_modules()]
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value, back.state_dict()[key])
