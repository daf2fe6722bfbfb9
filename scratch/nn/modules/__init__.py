from .activation import LogSoftmax, ReLU, Sigmoid, Softmax, Tanh
from .container import Sequential
from .flatten import Flatten
from .linear import Identity, Linear
from .loss import BCELoss, CrossEntropyLoss, MSELoss
from .module import Module

__all__ = ["BCELoss", "CrossEntropyLoss", "Flatten", "Identity", "Linear", "LogSoftmax", "MSELoss", "Module",
           "ReLU", "Sequential", "Sigmoid", "Softmax", "Tanh"]
