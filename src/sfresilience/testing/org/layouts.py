"""GET /sobjects/X/describe/layouts/: one generated page layout per object.

The shape is Salesforce's DescribeLayoutResult: `layouts`, `recordTypeMappings` and
`recordTypeSelectorRequired`. The layout holds every field a user edits (system fields
left out), two columns, and a related list per child relationship.
"""

from __future__ import annotations

from typing import Final

from .catalog import Schema
from .describe import describe_field
from .ids import id_checksum
from .schema import PICKLIST_TYPES, Field, SObject, version_path


_SYSTEM: Final = frozenset(
    {
        "Id",
        "IsDeleted",
        "CreatedDate",
        "CreatedById",
        "LastModifiedDate",
        "LastModifiedById",
        "SystemModstamp",
    }
)


def _id(prefix: str, obj: SObject, number: int = 0) -> str:
    id15 = f"{prefix}{obj.key_prefix}{number:09d}"
    return id15 + id_checksum(id15)


def layout_id(obj: SObject) -> str:
    return _id("00h", obj)


def _item(item: Field, tab: int) -> dict[str, object]:
    return {
        "editableForNew": item.createable,
        "editableForUpdate": item.updateable,
        "label": item.label,
        "layoutComponents": [
            {
                "details": describe_field(item),
                "displayLines": 1,
                "tabOrder": tab,
                "type": "Field",
                "value": item.name,
            }
        ],
        "placeholder": False,
        "required": item.required,
    }


def _section(obj: SObject, heading: str) -> dict[str, object]:
    shown = [item for item in obj.fields if item.name not in _SYSTEM and item.compound is None]
    items = [_item(item, tab) for tab, item in enumerate(shown, start=1)]
    rows = [
        {"layoutItems": items[start : start + 2], "numItems": len(items[start : start + 2])}
        for start in range(0, len(items), 2)
    ]
    return {
        "collapsed": False,
        "columns": 2,
        "heading": heading,
        "layoutRows": rows,
        "layoutSectionId": _id("01B", obj),
        "parentLayoutId": layout_id(obj),
        "rows": len(rows),
        "tabOrder": "TopDown",
        "useCollapsibleSection": False,
        "useHeading": False,
    }


def _related_lists(schema: Schema, obj: SObject) -> list[dict[str, object]]:
    lists: list[dict[str, object]] = []
    for child in schema.children(obj.name):
        if child.name is None:
            continue
        child_obj = schema[child.child]
        name_field = next((item for item in child_obj.fields if item.name_field), None)
        columns = (
            []
            if name_field is None
            else [
                {
                    "field": f"{child_obj.name}.{name_field.name}",
                    "fieldApiName": name_field.name,
                    "format": None,
                    "label": name_field.label,
                    "lookupId": "Id",
                    "name": name_field.name,
                    "sortable": True,
                }
            ]
        )
        lists.append(
            {
                "accessLevelRequiredForCreate": None,
                "buttons": [],
                "columns": columns,
                "custom": child_obj.custom,
                "field": child.field,
                "label": child_obj.label_plural,
                "limitRows": 5,
                "name": child.name,
                "sobject": child_obj.name,
                "sort": [],
            }
        )
    return lists


def layout(schema: Schema, obj: SObject) -> dict[str, object]:
    """One DescribeLayout."""
    return {
        "buttonLayoutSection": {"detailButtons": []},
        "detailLayoutSections": [_section(obj, "Information")],
        "editLayoutSections": [_section(obj, "Information")],
        "feedView": None,
        "highlightsPanelLayoutSection": None,
        "id": layout_id(obj),
        "multirowEditLayoutSections": [],
        "offlineLinks": [],
        "quickActionList": {"quickActionListItems": []},
        "relatedContent": None,
        "relatedLists": _related_lists(schema, obj),
        "saveOptions": [],
    }


def record_type_mapping(obj: SObject, info: dict[str, object], version: str) -> dict[str, object]:
    """A recordTypeMappings entry for one recordTypeInfos entry."""
    picklists = [
        {
            "picklistName": item.name,
            "picklistValues": [
                {
                    "active": True,
                    "defaultValue": value == item.default,
                    "label": label,
                    "validFor": None,
                    "value": value,
                }
                for value, label in item.picklist
            ],
        }
        for item in obj.fields
        if item.type in PICKLIST_TYPES and item.picklist
    ]
    base = f"/services/data/{version_path(version)}/sobjects/{obj.name}"
    return {
        "active": info["active"],
        "available": info["available"],
        "defaultRecordTypeMapping": info["defaultRecordTypeMapping"],
        "developerName": info["developerName"],
        "layoutId": layout_id(obj),
        "master": info["master"],
        "name": info["name"],
        "picklistsForRecordType": picklists,
        "recordTypeId": info["recordTypeId"],
        "urls": {"layout": f"{base}/describe/layouts/{info['recordTypeId']}"},
    }
