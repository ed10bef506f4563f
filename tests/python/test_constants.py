"""careshed.constants: each number is defined once, and agrees with the C++ core where the core knows it too."""
from __future__ import annotations

import numpy as np

import careshed
from careshed import _core, constants


def test_no_class_is_the_cores_no_class_code():
    # the core marks cells without people (NaN) as "no class" in the density rule
    grid = careshed.make_grid((500000, 0, 500300, 300), 100, "EPSG:32631")
    people = np.full(grid.shape, 10.0)
    people[1, 1] = np.nan
    classes = careshed.urban_rural(grid, population=people)
    assert classes[1, 1] == constants.NO_CLASS == 255
    assert careshed.NO_CLASS is constants.NO_CLASS


def test_the_standards_and_their_single_homes():
    assert constants.RESIDENTS_PER_VEHICLE == 30000
    assert constants.DEFAULT_PER["ambulances"] == constants.RESIDENTS_PER_VEHICLE
    assert constants.DEFAULT_THRESHOLDS_MIN == {"urban": 11.0, "rural": 15.0}
    assert list(constants.LUO_QI_STEPS_MIN.values()) == [1.0, 0.68, 0.22]
    assert constants.VERSION == _core.__version__ == careshed.__version__
