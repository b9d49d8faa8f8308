"""The describe bodies: describeGlobal entries, sObject describes and their field entries.

Key sets follow Salesforce's DescribeGlobalSObjectResult, DescribeSObjectResult and
Field; values the fake has no notion of (feeds, sharing, translation) are Salesforce's
defaults for a plain object.
"""

from __future__ import annotations

from typing import Final

from .catalog import Schema
from .schema import PICKLIST_TYPES, Field, SObject, version_path


MASTER_RECORD_TYPE: Final = "012000000000000AAA"
_SOAP_TYPES: Final = {
    "id": "tns:ID",
    "reference": "tns:ID",
    "boolean": "xsd:boolean",
    "int": "xsd:int",
    "double": "xsd:double",
    "currency": "xsd:double",
    "percent": "xsd:double",
    "date": "xsd:date",
    "datetime": "xsd:dateTime",
    "address": "urn:address",
}
_UNSORTABLE: Final = frozenset({"textarea", "multipicklist", "address"})
_DETAIL_OBJECTS: Final = frozenset({"CampaignMember", "OpportunityLineItem"})


def _base(obj: SObject, version: str) -> str:
    return f"/services/data/{version_path(version)}/sobjects/{obj.name}"


def global_entry(obj: SObject, version: str) -> dict[str, object]:
    """One entry of GET /sobjects."""
    base = _base(obj, version)
    writable = obj.writable
    return {
        "activateable": False,
        "associateEntityType": None,
        "associateParentEntity": None,
        "createable": writable,
        "custom": obj.custom,
        "customSetting": False,
        "deepCloneable": False,
        "deletable": writable,
        "deprecatedAndHidden": False,
        "feedEnabled": writable and not obj.custom,
        "hasSubtypes": False,
        "isInterface": False,
        "isSubtype": False,
        "keyPrefix": obj.key_prefix,
        "label": obj.label,
        "labelPlural": obj.label_plural,
        "layoutable": True,
        "mergeable": obj.name in {"Account", "Contact", "Lead"},
        "mruEnabled": writable,
        "name": obj.name,
        "queryable": True,
        "replicateable": True,
        "retrieveable": True,
        "searchable": obj.searchable,
        "triggerable": writable,
        "undeletable": writable and obj.soft_deletes,
        "updateable": writable,
        "urls": {
            "sobject": base,
            "describe": f"{base}/describe",
            "rowTemplate": f"{base}/{{ID}}",
        },
    }


def describe(
    schema: Schema, obj: SObject, version: str, record_types: list[dict[str, object]]
) -> dict[str, object]:
    """The body of GET /sobjects/X/describe."""
    base = _base(obj, version)
    body = global_entry(obj, version)
    scope = obj.label_plural.lower()
    body.update(
        actionOverrides=[],
        childRelationships=[
            {
                "cascadeDelete": child.cascade_delete,
                "childSObject": child.child,
                "deprecatedAndHidden": False,
                "field": child.field,
                "junctionIdListNames": [],
                "junctionReferenceTo": [],
                "relationshipName": child.name,
                "restrictedDelete": False,
            }
            for child in schema.children(obj.name)
        ],
        compactLayoutable=True,
        defaultImplementation=None,
        extendedBy=None,
        extendsInterfaces=None,
        fields=[describe_field(item) for item in obj.fields],
        implementedBy=None,
        implementsInterfaces=None,
        listviewable=None,
        lookupLayoutable=None,
        namedLayoutInfos=[],
        networkScopeFieldName=None,
        recordTypeInfos=record_types,
        searchLayoutable=obj.searchable,
        sobjectDescribeOption="FULL",
        supportedScopes=[
            {"label": f"All {scope}", "name": "everything"},
            {"label": f"My {scope}", "name": "mine"},
        ],
        urlDetail=None,
        urlEdit=None,
        urlNew=None,
    )
    body["urls"] = {
        "compactLayouts": f"{base}/describe/compactLayouts",
        "rowTemplate": f"{base}/{{ID}}",
        "approvalLayouts": f"{base}/describe/approvalLayouts",
        "defaultValues": f"{base}/defaultValues?recordTypeId&fields",
        "listviews": f"{base}/listviews",
        "describe": f"{base}/describe",
        "quickActions": f"{base}/quickActions",
        "layouts": f"{base}/describe/layouts",
        "sobject": base,
    }
    return body


def record_type_info(
    obj: SObject, version: str, name: str, developer_name: str, record_type_id: str
) -> dict[str, object]:
    """One recordTypeInfos entry; the Master record type has the well-known id."""
    master = record_type_id == MASTER_RECORD_TYPE
    return {
        "active": True,
        "available": True,
        "defaultRecordTypeMapping": master or not obj.record_types or name == obj.record_types[0],
        "developerName": developer_name,
        "master": master,
        "name": name,
        "recordTypeId": record_type_id,
        "urls": {"layout": f"{_base(obj, version)}/describe/layouts/{record_type_id}"},
    }


# Field facts the fake has no model for: the same on every field.
_FIELD_CONSTANTS: dict[str, object] = {
    "aiPredictionField": False,
    "autoNumber": False,
    "calculated": False,
    "calculatedFormula": None,
    "controllerName": None,
    "defaultValueFormula": None,
    "dependentPicklist": False,
    "deprecatedAndHidden": False,
    "displayLocationInDecimal": False,
    "encrypted": False,
    "filteredLookupInfo": None,
    "formulaTreatNullNumberAsZero": False,
    "highScaleNumber": False,
    "htmlFormatted": False,
    "inlineHelpText": None,
    "mask": None,
    "maskType": None,
    "queryByDistance": False,
    "referenceTargetField": None,
    "relationshipOrder": None,
    "restrictedDelete": False,
    "writeRequiresMasterRead": False,
}
_UNGROUPABLE = frozenset(
    {"textarea", "address", "double", "currency", "percent", "datetime", "multipicklist"}
)
_DECIMAL_TYPES = frozenset({"double", "currency", "percent"})


def describe_field(item: Field) -> dict[str, object]:
    """One entry of a describe's `fields`, keys in alphabetical order as Salesforce sends them."""
    facts = {
        **_FIELD_CONSTANTS,
        **_field_identity(item),
        **_field_size(item),
        **_field_capabilities(item),
        **_field_relationship(item),
    }
    return dict(sorted(facts.items()))


def _field_identity(item: Field) -> dict[str, object]:
    return {
        "caseSensitive": item.case_sensitive,
        "compoundFieldName": item.compound
        or ("Name" if item.name in {"FirstName", "LastName", "Salutation"} else None),
        "custom": item.custom,
        "defaultValue": item.default if isinstance(item.default, bool) else None,
        "defaultedOnCreate": item.default is not None
        or item.type in {"id", "boolean"}
        or item.name == "OwnerId",
        "externalId": item.external_id,
        "extraTypeInfo": _extra_type_info(item),
        "label": item.label,
        "name": item.name,
        "nameField": item.name_field,
        "nillable": item.nillable,
        "picklistValues": _picklist_values(item),
        "soapType": _SOAP_TYPES.get(item.type, "xsd:string"),
        "type": item.type,
        "unique": item.unique,
    }


def _field_size(item: Field) -> dict[str, object]:
    kind = item.type
    sized = item.kind == "string" or kind in {"id", "reference"}
    length = item.length or 0
    return {
        "byteLength": length * 3 if sized else 0,
        "digits": item.precision if kind == "int" else 0,
        "length": length if sized else 0,
        "precision": item.precision if kind in _DECIMAL_TYPES else 0,
        "scale": item.scale if kind in _DECIMAL_TYPES else 0,
    }


def _field_capabilities(item: Field) -> dict[str, object]:
    kind = item.type
    return {
        "aggregatable": kind not in _UNSORTABLE and kind != "boolean",
        "createable": item.createable,
        "filterable": kind not in {"textarea", "address"},
        "groupable": kind not in _UNGROUPABLE,
        "idLookup": kind == "id" or item.external_id or (item.unique and item.kind == "string"),
        "permissionable": item.custom and not item.required,
        "restrictedPicklist": kind in PICKLIST_TYPES and kind != "combobox" and item.restricted,
        "sortable": kind not in _UNSORTABLE,
        "updateable": item.updateable,
    }


def _field_relationship(item: Field) -> dict[str, object]:
    polymorphic = len(item.targets) > 1
    return {
        "cascadeDelete": item.cascade_delete,
        "namePointing": polymorphic,
        "polymorphicForeignKey": polymorphic,
        "referenceTo": list(item.targets),
        "relationshipName": item.relationship_name if item.type == "reference" else None,
        "searchPrefilterable": item.type == "reference",
    }


def _extra_type_info(item: Field) -> str | None:
    return "plaintextarea" if item.type == "textarea" else None


def _picklist_values(item: Field) -> list[dict[str, object]]:
    return [
        {
            "active": True,
            "defaultValue": value == item.default,
            "label": label,
            "validFor": None,
            "value": value,
        }
        for value, label in item.picklist
    ]
