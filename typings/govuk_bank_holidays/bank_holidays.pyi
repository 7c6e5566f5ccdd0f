from collections.abc import Iterable, Iterator
from datetime import date
from typing import ClassVar, TypedDict, type_check_only

# One holiday as get_holidays returns it (a plain dict at run time).
@type_check_only
class Holiday(TypedDict):
    title: str
    date: date
    notes: str
    bunting: bool

class BankHolidays:
    ENGLAND_AND_WALES: ClassVar[str]
    SCOTLAND: ClassVar[str]
    NORTHERN_IRELAND: ClassVar[str]
    def __init__(
        self,
        locale: str | None = None,
        weekend: Iterable[int] = (5, 6),
        use_cached_holidays: bool = False,
        download_timeout: float = 10,
    ) -> None: ...
    def __iter__(self) -> Iterator[Holiday]: ...
    def get_holidays(
        self, division: str | None = None, year: int | None = None
    ) -> list[Holiday]: ...
    def is_holiday(self, date: date, division: str | None = None) -> bool: ...
    def is_work_day(self, date: date, division: str | None = None) -> bool: ...
